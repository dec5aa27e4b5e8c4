// kube-score, a Kubernetes best-practice and security linter, on the manifests `npm run synth` renders for each
// stack, with the checked-in configuration lint/kube-score.yaml (kube-linter, which issue #7 names, cannot be
// fetched here: see scripts/toolchain.d/versions). kube-score has no config file of its own: this file turns
// lint/kube-score.yaml into kube-score's flags and applies its per-object exceptions to kube-score's JSON report.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Manifest } from '../../lib';
import { applyOverrides, readStackFile } from '../../stacks/stack-file';
import { ROOT, runTool } from './tools';
import { synthesize } from '../../stacks/synthesize';

const CONFIG_FILE = 'lint/kube-score.yaml';
const STACKS = ['staging', 'prod'] as const;

const WORK = mkdtempSync(join(tmpdir(), 'manifest-lint-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// lint/kube-score.yaml
// ---------------------------------------------------------------------------------------------------------------

/** Whether one kube-score check runs, and why it differs from kube-score's default (or why it stays off). */
interface CheckDecision {
  readonly enabled: boolean;
  readonly reason: string;
}

/** A check that may fail on one object, and why. */
interface LintException {
  readonly check: string;
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

/** lint/kube-score.yaml, validated. */
interface LintConfig {
  /** Passed as `--kubernetes-version`, e.g. `v1.30`. */
  readonly kubernetesVersion: string;
  /** Check ID → decision. Checks not named keep kube-score's default (on for default checks). */
  readonly checks: Readonly<Record<string, CheckDecision>>;
  readonly exceptions: readonly LintException[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/**
 * Parses and validates the config text. Throws one error listing every problem, each as
 * `<file>: <key>: <problem>, got <value>; <fix>`.
 */
function parseLintConfig(text: string, file = CONFIG_FILE): LintConfig {
  const problems: string[] = [];
  const problem = (key: string, what: string, got: unknown, fix: string) => problems.push(`${file}: ${key}: ${what}, got ${shown(got)}; ${fix}`);
  const document: unknown = parse(text) ?? {};
  if (!isRecord(document)) {
    throw new Error(`${file}: not a mapping, got ${shown(document)}; write kubernetesVersion, checks and exceptions as top-level keys`);
  }
  for (const key of Object.keys(document)) {
    if (!['kubernetesVersion', 'checks', 'exceptions'].includes(key)) {
      problem(key, 'unknown key', document[key], 'use kubernetesVersion, checks or exceptions');
    }
  }
  const { kubernetesVersion } = document;
  if (typeof kubernetesVersion !== 'string' || !/^v\d+\.\d+$/.test(kubernetesVersion)) {
    problem('kubernetesVersion', 'not a vMAJOR.MINOR version', kubernetesVersion, 'e.g. v1.30, the oldest Kubernetes the project supports');
  }
  const checks: Record<string, CheckDecision> = {};
  const rawChecks = document.checks ?? {};
  if (!isRecord(rawChecks)) {
    problem('checks', 'not a mapping of check IDs', rawChecks, 'e.g. checks: {container-image-pull-policy: {enabled: false, reason: ...}}');
  } else {
    for (const [id, decision] of Object.entries(rawChecks)) {
      const key = `checks.${id}`;
      if (!isRecord(decision)) {
        problem(key, 'not a mapping', decision, 'give enabled (true or false) and reason');
        continue;
      }
      for (const field of Object.keys(decision).filter((field) => field !== 'enabled' && field !== 'reason')) {
        problem(`${key}.${field}`, 'unknown key', decision[field], 'use enabled and reason');
      }
      if (typeof decision.enabled !== 'boolean') {
        problem(`${key}.enabled`, 'not true or false', decision.enabled, 'true runs the check, false skips it');
      }
      if (typeof decision.reason !== 'string' || decision.reason.trim() === '') {
        problem(`${key}.reason`, 'missing', decision.reason, 'say why the check is on or off for these manifests');
      }
      checks[id] = { enabled: decision.enabled === true, reason: typeof decision.reason === 'string' ? decision.reason : '' };
    }
  }
  const exceptions: LintException[] = [];
  const rawExceptions = document.exceptions ?? [];
  if (!Array.isArray(rawExceptions)) {
    problem('exceptions', 'not a list', rawExceptions, 'list entries of check, kind, name and reason');
  } else {
    rawExceptions.forEach((entry: unknown, index) => {
      const key = `exceptions[${index}]`;
      if (!isRecord(entry)) {
        problem(key, 'not a mapping', entry, 'give check, kind, name and reason');
        return;
      }
      for (const field of Object.keys(entry).filter((field) => !['check', 'kind', 'name', 'reason'].includes(field))) {
        problem(`${key}.${field}`, 'unknown key', entry[field], 'use check, kind, name and reason');
      }
      const fields = {
        check: 'the kube-score check ID',
        kind: 'the object kind, e.g. NetworkPolicy',
        name: 'the object name',
        reason: 'say why this object may fail the check',
      };
      for (const [field, fix] of Object.entries(fields)) {
        const value = entry[field];
        if (typeof value !== 'string' || value.trim() === '') {
          problem(`${key}.${field}`, 'missing', value, fix);
        }
      }
      exceptions.push({ check: String(entry.check), kind: String(entry.kind), name: String(entry.name), reason: String(entry.reason) });
    });
  }
  if (problems.length > 0) {
    throw new Error(problems.join('\n'));
  }
  return { kubernetesVersion: kubernetesVersion as string, checks, exceptions };
}

/** One check as `kube-score list` describes it. */
interface CatalogCheck {
  readonly id: string;
  readonly optional: boolean;
}

/** Parses `kube-score list` (CSV: id, target, description, `default` or `optional`; only the description has commas). */
function parseCatalog(csv: string): CatalogCheck[] {
  return csv
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const id = line.slice(0, line.indexOf(','));
      const enabled = line.slice(line.lastIndexOf(',') + 1).trim();
      if (!/^[a-z0-9-]+$/.test(id) || (enabled !== 'default' && enabled !== 'optional')) {
        throw new Error(`kube-score list: unexpected line "${line}"`);
      }
      return { id, optional: enabled === 'optional' };
    });
}

/** What the config says that does not fit the checks kube-score has; empty when it fits. */
function catalogProblems(config: LintConfig, catalog: readonly CatalogCheck[], file = CONFIG_FILE): string[] {
  const byId = new Map(catalog.map((check) => [check.id, check]));
  const problems: string[] = [];
  for (const [id, decision] of Object.entries(config.checks)) {
    const check = byId.get(id);
    if (check === undefined) {
      problems.push(`${file}: checks.${id}: not a kube-score check, got "${id}"; see \`kube-score list\``);
    } else if (decision.enabled && !check.optional) {
      problems.push(`${file}: checks.${id}: enables a check that is on by default, got enabled: true; remove the entry`);
    }
  }
  for (const check of catalog.filter((check) => check.optional && config.checks[check.id] === undefined)) {
    problems.push(`${file}: checks.${check.id}: optional check not decided, got nothing; add it with enabled (true or false) and the reason`);
  }
  config.exceptions.forEach((exception, index) => {
    const check = byId.get(exception.check);
    const enabled = check !== undefined && (config.checks[check.id]?.enabled ?? !check.optional);
    if (check === undefined) {
      problems.push(`${file}: exceptions[${index}].check: not a kube-score check, got "${exception.check}"; see \`kube-score list\``);
    } else if (!enabled) {
      problems.push(`${file}: exceptions[${index}].check: the check is off, got "${exception.check}"; remove the exception`);
    }
  });
  return problems;
}

/** kube-score's flags for the config. Annotations on the objects cannot switch checks: the config is the one place. */
function kubeScoreFlags(config: LintConfig): string[] {
  const decided = Object.entries(config.checks);
  return [
    '--kubernetes-version',
    config.kubernetesVersion,
    '--disable-ignore-checks-annotations',
    '--disable-optional-checks-annotations',
    ...decided.filter(([, decision]) => decision.enabled).flatMap(([id]) => ['--enable-optional-test', id]),
    ...decided.filter(([, decision]) => !decision.enabled).flatMap(([id]) => ['--ignore-test', id]),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Running kube-score
// ---------------------------------------------------------------------------------------------------------------

/** One check failed by one object, at warning or critical grade. */
interface Finding {
  readonly check: string;
  readonly grade: 'critical' | 'warning';
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** kube-score's comments, `(container) summary`, joined by `; `. */
  readonly summary: string;
}

/** The parts of kube-score's JSON report (`--output-format json`, v2) read here. */
interface ScoredObject {
  readonly type_meta: { readonly kind: string };
  readonly object_meta: { readonly name: string; readonly namespace?: string };
  readonly checks: readonly {
    readonly check: { readonly id: string };
    readonly grade: number;
    readonly skipped: boolean;
    readonly comments: readonly { readonly path: string; readonly summary: string }[] | null;
  }[];
}

// kube-score's grades (scorecard.Grade): 1 critical, 5 warning, 7 almost OK, 10 OK.
const GRADE_CRITICAL = 1;
const GRADE_WARNING = 5;

function describeFinding(finding: Finding): string {
  return `${finding.grade} ${finding.check} ${finding.kind} ${finding.namespace}/${finding.name}: ${finding.summary}`;
}

/** Writes the manifests as `npm run synth` does (one file per object) into a fresh directory; returns the files. */
function writeManifests(label: string, manifests: readonly Manifest[]): string[] {
  const dir = join(WORK, label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return manifests.map((manifest, index) => {
    const file = join(dir, `${String(index).padStart(2, '0')}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`);
    writeFileSync(file, stringify(manifest, { lineWidth: 0 }));
    return file;
  });
}

/** Runs `kube-score score` on the manifests with the config's flags; returns every finding, before exceptions. */
function kubeScore(label: string, manifests: readonly Manifest[], config: LintConfig): Finding[] {
  const files = writeManifests(label, manifests);
  const result = runTool('kube-score', ['score', '--output-format', 'json', '--color', 'never', ...kubeScoreFlags(config), ...files]);
  // Exit status 1 means "a critical finding" and still comes with the report; anything else is a failed run.
  let report: ScoredObject[];
  try {
    report = JSON.parse(result.stdout) as ScoredObject[];
  } catch {
    throw new Error(`kube-score score ${label}: no JSON report (exit status ${result.status}): ${result.stderr}${result.stdout}`);
  }
  return report.flatMap((object) =>
    object.checks
      .filter((check) => !check.skipped && check.grade <= GRADE_WARNING)
      .map((check) => ({
        check: check.check.id,
        grade: check.grade <= GRADE_CRITICAL ? ('critical' as const) : ('warning' as const),
        kind: object.type_meta.kind,
        namespace: object.object_meta.namespace ?? '',
        name: object.object_meta.name,
        summary: (check.comments ?? []).map((comment) => (comment.path !== '' ? `(${comment.path}) ${comment.summary}` : comment.summary)).join('; '),
      })),
  );
}

/** Splits findings into those no exception covers and, per exception (by index), how many it covered. */
function applyExceptions(findings: readonly Finding[], exceptions: readonly LintException[]): { failing: Finding[]; covered: number[] } {
  const covered = exceptions.map(() => 0);
  const failing = findings.filter((finding) => {
    const index = exceptions.findIndex((e) => e.check === finding.check && e.kind === finding.kind && e.name === finding.name);
    if (index >= 0) {
      covered[index]++;
    }
    return index < 0;
  });
  return { failing, covered };
}

/** Exceptions that covered nothing, as messages; empty when every exception is still needed. */
function unusedExceptions(exceptions: readonly LintException[], covered: readonly number[], file = CONFIG_FILE): string[] {
  return exceptions.flatMap((e, index) =>
    covered[index] > 0 ? [] : [`${file}: exceptions[${index}]: covers no finding, got ${e.check} on ${e.kind}/${e.name}; remove the exception`],
  );
}

/** The stack's objects exactly as `npm run synth -- --stack <stack> [--config ...]` renders them. */
function renderStack(stack: string, overrides: readonly string[] = []): Manifest[] {
  const raw = applyOverrides(readStackFile(ROOT, stack), overrides);
  return synthesize(raw, stack).objects.map((rendered) => rendered.manifest);
}

// ---------------------------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------------------------

const configText = readFileSync(join(ROOT, CONFIG_FILE), 'utf8');
const config = parseLintConfig(configText);

/** A config with only the given entries besides a valid kubernetesVersion, for the rejection cases. */
function configWith(yaml: string): string {
  return `kubernetesVersion: v1.30\n${yaml}`;
}

describe('lint/kube-score.yaml', () => {
  let catalog: CatalogCheck[];
  beforeAll(() => {
    const result = runTool('kube-score', ['list']);
    expect(result.status).toBe(0);
    catalog = parseCatalog(result.stdout);
  });

  it('fits the checks kube-score has: known IDs, optional ones decided, exceptions only for running checks', () => {
    expect(catalog.length).toBeGreaterThan(30);
    expect(catalogProblems(config, catalog)).toEqual([]);
  });

  it('gives every decision and every exception a reason', () => {
    const reasons = [...Object.values(config.checks).map((d) => d.reason), ...config.exceptions.map((e) => e.reason)];
    expect(reasons.length).toBe(Object.keys(config.checks).length + config.exceptions.length);
    expect(reasons.filter((reason) => reason.trim().length < 20)).toEqual([]);
  });

  it('rejects a decision or an exception without a reason', () => {
    const text = configWith(
      'checks:\n  deployment-replicas: {enabled: false}\nexceptions:\n  - {check: pod-probes, kind: Deployment, name: web-blue}\n',
    );
    expect(() => parseLintConfig(text, 'k.yaml')).toThrow(
      [
        'k.yaml: checks.deployment-replicas.reason: missing, got nothing; say why the check is on or off for these manifests',
        'k.yaml: exceptions[0].reason: missing, got nothing; say why this object may fail the check',
      ].join('\n'),
    );
  });

  it('rejects an exception without the object it covers', () => {
    const text = configWith('exceptions:\n  - {check: pod-probes, reason: probes are fine}\n');
    expect(() => parseLintConfig(text, 'k.yaml')).toThrow(
      'k.yaml: exceptions[0].kind: missing, got nothing; the object kind, e.g. NetworkPolicy\n' +
        'k.yaml: exceptions[0].name: missing, got nothing; the object name',
    );
  });

  it('rejects a malformed Kubernetes version and unknown keys', () => {
    const text = 'kubernetesVersion: "1.30"\nfailOn: critical\nchecks:\n  pod-probes: {enabled: false, reason: no probes here, because: x}\n';
    expect(() => parseLintConfig(text, 'k.yaml')).toThrow(
      [
        'k.yaml: failOn: unknown key, got "critical"; use kubernetesVersion, checks or exceptions',
        'k.yaml: kubernetesVersion: not a vMAJOR.MINOR version, got "1.30"; e.g. v1.30, the oldest Kubernetes the project supports',
        'k.yaml: checks.pod-probes.because: unknown key, got "x"; use enabled and reason',
      ].join('\n'),
    );
  });

  it('rejects an unknown check, enabling a default check, an undecided optional check and an exception for a check that is off', () => {
    const text = configWith(
      [
        'checks:',
        '  container-imag-tag: {enabled: false, reason: typo}',
        '  pod-probes: {enabled: true, reason: on anyway}',
        '  deployment-replicas: {enabled: false, reason: the HPA owns replicas}',
        'exceptions:',
        '  - {check: deployment-replicas, kind: Deployment, name: web-blue, reason: retired}',
        '',
      ].join('\n'),
    );
    const small: CatalogCheck[] = [
      { id: 'container-image-tag', optional: false },
      { id: 'pod-probes', optional: false },
      { id: 'deployment-replicas', optional: false },
      { id: 'container-seccomp-profile', optional: true },
    ];
    expect(catalogProblems(parseLintConfig(text, 'k.yaml'), small, 'k.yaml')).toEqual([
      'k.yaml: checks.container-imag-tag: not a kube-score check, got "container-imag-tag"; see `kube-score list`',
      'k.yaml: checks.pod-probes: enables a check that is on by default, got enabled: true; remove the entry',
      'k.yaml: checks.container-seccomp-profile: optional check not decided, got nothing; add it with enabled (true or false) and the reason',
      'k.yaml: exceptions[0].check: the check is off, got "deployment-replicas"; remove the exception',
    ]);
  });

  it('reports an exception that covers no finding', () => {
    const exceptions: LintException[] = [
      { check: 'networkpolicy-targets-pod', kind: 'NetworkPolicy', name: 'web-db', reason: 'operator pods' },
      { check: 'networkpolicy-targets-pod', kind: 'NetworkPolicy', name: 'gone', reason: 'removed long ago' },
    ];
    const finding: Finding = {
      check: 'networkpolicy-targets-pod',
      grade: 'critical',
      kind: 'NetworkPolicy',
      namespace: 'web-prod',
      name: 'web-db',
      summary: '',
    };
    const { failing, covered } = applyExceptions([finding], exceptions);
    expect(failing).toEqual([]);
    expect(unusedExceptions(exceptions, covered, 'k.yaml')).toEqual([
      'k.yaml: exceptions[1]: covers no finding, got networkpolicy-targets-pod on NetworkPolicy/gone; remove the exception',
    ]);
  });
});

describe('kube-score on the rendered stacks', () => {
  const findings = new Map<string, Finding[]>();
  beforeAll(() => {
    for (const stack of STACKS) {
      findings.set(stack, kubeScore(stack, renderStack(stack), config));
    }
  });

  it.each(STACKS)('%s: no finding at warning or critical grade beyond the recorded exceptions', (stack) => {
    const { failing } = applyExceptions(findings.get(stack) ?? [], config.exceptions);
    expect(failing.map(describeFinding)).toEqual([]);
  });

  it('every exception still covers a finding in a shipped stack', () => {
    const covered = config.exceptions.map(() => 0);
    for (const stack of STACKS) {
      applyExceptions(findings.get(stack) ?? [], config.exceptions).covered.forEach((count, index) => (covered[index] += count));
    }
    expect(unusedExceptions(config.exceptions, covered)).toEqual([]);
  });

  it('prod with a retired color (replicas: 0) and the other one live: no finding beyond the exceptions', () => {
    const retired = kubeScore('prod-retired', renderStack('prod', ['activeColor=green', 'blue.replicas=0']), config);
    expect(applyExceptions(retired, config.exceptions).failing.map(describeFinding)).toEqual([]);
  });

  it('the decision to keep IfNotPresent is what keeps container-image-pull-policy quiet', () => {
    const { 'container-image-pull-policy': _decision, ...others } = config.checks;
    const without = kubeScore('prod-pull-policy', renderStack('prod'), { ...config, checks: others });
    expect(
      without
        .filter((f) => f.check === 'container-image-pull-policy')
        .map((f) => `${f.kind}/${f.name}`)
        .sort(),
    ).toEqual(['Deployment/web-blue', 'Deployment/web-green', 'Job/web-gate-blue']);
  });
});

type Mutable = Record<string, unknown> & { metadata: Record<string, unknown> };

/**
 * Staging with web-blue's pod template broken on purpose: `:latest`, no resources, privileged, no seccomp
 * profile, a duplicate port name, and a `kube-score/ignore` annotation that must not silence anything; plus a
 * NetworkPolicy that selects no pod, which the exceptions for the data tier's policies must not cover.
 */
function brokenStaging(): Manifest[] {
  const manifests = renderStack('staging').map((manifest) => JSON.parse(JSON.stringify(manifest)) as Mutable);
  const deployment = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'web-blue') as
    (Mutable & { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, unknown>[] } } } }) | undefined;
  if (deployment === undefined) {
    throw new Error('no Deployment/web-blue in the staging stack');
  }
  deployment.metadata.annotations = { 'kube-score/ignore': 'container-image-tag,container-security-context-privileged' };
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0] as Record<string, unknown> & { securityContext: Record<string, unknown>; ports: object[] };
  container.image = 'registry.example.com/acme/web:latest';
  delete container.resources;
  container.securityContext = { ...container.securityContext, privileged: true, allowPrivilegeEscalation: true };
  delete container.securityContext.seccompProfile;
  delete pod.securityContext.seccompProfile;
  container.ports = [...container.ports, { name: 'http', containerPort: 8081, protocol: 'TCP' }];
  const stray: Mutable = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web-stray', namespace: 'web-staging' },
    spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nothing' } }, policyTypes: ['Ingress'] },
  };
  return [...manifests, stray] as unknown as Manifest[];
}

describe('kube-score on a deliberately broken copy of staging', () => {
  let failing: Finding[];
  let intact: Finding[];
  beforeAll(() => {
    failing = applyExceptions(kubeScore('staging-broken', brokenStaging(), config), config.exceptions).failing;
    intact = applyExceptions(kubeScore('staging-intact', renderStack('staging'), config), config.exceptions).failing;
  });

  const on = (kind: string, name: string, check: string) =>
    failing.filter((f) => f.kind === kind && f.name === name && f.check === check).map((f) => `${f.grade}: ${f.summary}`);

  it.each([
    ['an image tagged :latest', 'container-image-tag', ['critical: (app) Image with latest tag']],
    [
      'a container without requests and limits',
      'container-resources',
      ['critical: (app) CPU limit is not set; (app) Memory limit is not set; (app) CPU request is not set; (app) Memory request is not set'],
    ],
    ['a privileged container', 'container-security-context-privileged', ['critical: (app) The container is privileged']],
    [
      'a pod without a seccomp profile (optional check, on in the config)',
      'container-seccomp-profile',
      ['warning: (app) The container has not configured Seccomp'],
    ],
    ['a duplicate port name (optional check, on in the config)', 'container-ports-check', ['critical: (app) Container Port Check']],
  ])('reports %s as %s', (_defect, check, expected) => {
    expect(on('Deployment', 'web-blue', check)).toEqual(expected);
  });

  it('ignores the kube-score/ignore annotation on the object: the config is the only place for exceptions', () => {
    expect(on('Deployment', 'web-blue', 'container-image-tag')).toHaveLength(1);
    expect(on('Deployment', 'web-blue', 'container-security-context-privileged')).toHaveLength(1);
  });

  it('reports a NetworkPolicy that selects no pod: the data tier exceptions name their objects only', () => {
    expect(on('NetworkPolicy', 'web-stray', 'networkpolicy-targets-pod')).toEqual(["critical: The NetworkPolicys selector doesn't match any pods"]);
  });

  it('finds nothing new on the objects left intact', () => {
    const elsewhere = (list: readonly Finding[]) => list.filter((f) => f.name !== 'web-blue' && f.name !== 'web-stray').map(describeFinding);
    expect(elsewhere(failing)).toEqual(elsewhere(intact));
  });
});
