import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pinnedVersion, runTool } from './tools';

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tools-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('runTool', () => {
  it('names a binary that is not on PATH and how to install it', () => {
    expect(() => runTool('cutover-no-such-tool', ['--version'])).toThrow(
      'cutover-no-such-tool: not found on PATH: run `npm run test:tools`, which installs it',
    );
  });

  it('returns a non-zero exit status instead of throwing', () => {
    const result = runTool('bash', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes input on standard input', () => {
    expect(runTool('cat', [], { input: 'hello' }).stdout).toBe('hello');
  });
});

describe('pinnedVersion', () => {
  it('reads a pin from scripts/toolchain.d/versions', () => {
    expect(pinnedVersion('ACTIONLINT_VERSION')).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects a name that is not pinned', () => {
    const file = join(tempDir({ versions: 'FOO_VERSION=1.0.0\n' }), 'versions');
    expect(() => pinnedVersion('BAR_VERSION', file)).toThrow(`BAR_VERSION: not pinned in ${file}; add a line BAR_VERSION=<version> there`);
  });

  it('rejects a pin that is not a literal version', () => {
    const file = join(tempDir({ versions: 'FOO_VERSION=${BAR_VERSION}+x\n' }), 'versions');
    expect(() => pinnedVersion('FOO_VERSION', file)).toThrow(
      `FOO_VERSION: not a plain version in ${file}, got "\${BAR_VERSION}+x"; pin a literal version`,
    );
  });
});

describe('netpolicy', () => {
  it('reports the pinned version', () => {
    const result = runTool('netpolicy', ['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(`netpolicy version v${pinnedVersion('NETPOLICY_VERSION')} (github.com/np-guard/netpol-analyzer)`);
  });

  it('allows only what a NetworkPolicy admits', () => {
    const dir = tempDir({
      'pods.yaml': [pod('web'), pod('db')].join('---\n'),
      'policy.yaml': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432, protocol: TCP}]
`,
    });
    const result = runTool('netpolicy', ['list', '--dirpath', dir, '-o', 'json']);
    expect(result.status).toBe(0);
    const into = (dst: string) =>
      (JSON.parse(result.stdout) as { src: string; dst: string; conn: string }[]).filter((c) => c.dst === dst).map((c) => `${c.src}: ${c.conn}`);
    expect(into('shop/db[Pod]')).toEqual(['shop/web[Pod]: TCP 5432']);
    expect(into('shop/web[Pod]')).toContain('0.0.0.0-255.255.255.255: All Connections');
  });
});

describe('actionlint', () => {
  it('reports the pinned version', () => {
    const result = runTool('actionlint', ['-version']);
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`v${pinnedVersion('ACTIONLINT_VERSION')}`);
  });

  it('accepts a valid workflow and rejects an unknown job key', () => {
    const workflow = (stepsKey: string) => `on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    ${stepsKey}:\n      - run: echo hi\n`;
    expect(runTool('actionlint', ['-no-color', '-'], { input: workflow('steps') })).toMatchObject({ status: 0, stdout: '' });
    const bad = runTool('actionlint', ['-no-color', '-oneline', '-'], { input: workflow('stepz') });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('unexpected key "stepz" for "job" section');
  });
});

describe('kube-score', () => {
  it('reports the pinned version, stamped by scripts/toolchain', () => {
    const result = runTool('kube-score', ['version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^kube-score version: v${pinnedVersion('KUBE_SCORE_VERSION').replaceAll('.', '\\.')}, commit: N/A, built: \\d{4}-\\d\\d-\\d\\dT`),
    );
  });
});

describe('promtool', () => {
  it('reports the version scripts/system-packages installs', () => {
    const result = runTool('promtool', ['--version']);
    expect(result.status).toBe(0);
    expect(`${result.stdout}${result.stderr}`.split('\n')[0]).toMatch(
      new RegExp(`^promtool, version ${pinnedVersion('PROMTOOL_VERSION').replaceAll('.', '\\.')}\\b`),
    );
  });

  it('accepts a valid rule file and rejects an unparsable expression', () => {
    const rules = (expr: string) => `groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: ${expr}\n    for: 5m\n`;
    const dir = tempDir({ 'ok.yaml': rules('up == 0'), 'bad.yaml': rules('up ==') });
    expect(runTool('promtool', ['check', 'rules', 'ok.yaml'], { cwd: dir }).status).toBe(0);
    const bad = runTool('promtool', ['check', 'rules', 'bad.yaml'], { cwd: dir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('could not parse expression');
  });
});

describe('amtool', () => {
  it('reports the version scripts/system-packages installs, as the Alertmanager of the same package does', () => {
    const version = pinnedVersion('AMTOOL_VERSION').replaceAll('.', '\\.');
    for (const [bin, name] of [
      ['amtool', 'amtool'],
      ['prometheus-alertmanager', 'alertmanager'],
    ]) {
      const result = runTool(bin, ['--version']);
      expect(result.status).toBe(0);
      expect(`${result.stdout}${result.stderr}`.split('\n')[0]).toMatch(new RegExp(`^${name}, version ${version}\\b`));
    }
  });

  it('accepts a valid configuration and rejects a route to an unknown receiver', () => {
    const config = (receiver: string) => `route:\n  receiver: ${receiver}\nreceivers:\n- name: team\n`;
    const dir = tempDir({ 'ok.yml': config('team'), 'bad.yml': config('nobody') });
    expect(runTool('amtool', ['check-config', 'ok.yml'], { cwd: dir }).status).toBe(0);
    const bad = runTool('amtool', ['check-config', 'bad.yml'], { cwd: dir });
    expect(bad.status).toBe(1);
    expect(`${bad.stdout}${bad.stderr}`).toContain('undefined receiver "nobody" used in route');
  });
});

function pod(app: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${app}, namespace: shop, labels: {app: ${app}}}
spec:
  containers: [{name: ${app}, image: registry.example.com/${app}:1.0.0}]
`;
}
