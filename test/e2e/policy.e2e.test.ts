// The CrossGuard policy pack (policy/) run for real: `pulumi preview --policy-pack policy` with the project's
// Pulumi CLI and Node.js language host (which starts the pack through RunPlugin) against the local control
// plane. Previews only: nothing is created in the cluster, and each throwaway stack is removed afterwards.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack, ROOT, localStackConfig } from '../../scripts/local';
import { readyCluster } from './helpers';

/** The stack policies of the pack: each must have run (passed or failed) in every preview. */
const STACK_POLICIES = ['disruption-budget-for-replicated-workloads', 'no-skip-await-in-traffic-path', 'pods-selected-by-network-policy'];

interface PolicyEvent {
  readonly policyName: string;
  readonly enforcementLevel: string;
  readonly message: string;
  readonly resourceUrn?: string;
}

interface PreviewResult {
  readonly code: number | null;
  readonly violations: PolicyEvent[];
  /** Names of the stack policies that ran, from the engine's stack summary. */
  readonly stackPoliciesRun: string[];
  readonly packs: Record<string, string>;
  readonly output: string;
}

let env: Record<string, string>;
let kubeconfig: string;
const stacks: LocalStack[] = [];
const stateDirs: string[] = [];

/** A throwaway stack on its own file backend; preview only. */
async function localStack(name: string, config: Record<string, unknown>): Promise<LocalStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'cutover-policy-state-'));
  stateDirs.push(stateDir);
  const stack = new LocalStack(name, env, kubeconfig, stateDir);
  await stack.init(config);
  stacks.push(stack);
  return stack;
}

/** The fields read of the engine's events (`pulumi preview --json` with streaming on), one kind of event per line. */
interface EngineEvent {
  readonly policyEvent?: PolicyEvent;
  readonly policyAnalyzeStackSummaryEvent?: { readonly passed?: string[]; readonly failed?: string[] };
  readonly summaryEvent?: { readonly PolicyPacks?: Record<string, string> };
  readonly diagnosticEvent?: { readonly severity: string; readonly message: string };
}

/** `pulumi preview --policy-pack policy`, read from the engine's event stream (one JSON event per line). */
async function previewWithPack(stack: LocalStack): Promise<PreviewResult> {
  stack.env.PULUMI_ENABLE_STREAMING_JSON_PREVIEW = 'true';
  const result = await stack.pulumi(['preview', '--policy-pack', 'policy', '--json']);
  const events = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as EngineEvent);
  return {
    code: result.code,
    violations: events.flatMap((event) => (event.policyEvent === undefined ? [] : [event.policyEvent])),
    stackPoliciesRun: events.flatMap((event) => [
      ...(event.policyAnalyzeStackSummaryEvent?.passed ?? []),
      ...(event.policyAnalyzeStackSummaryEvent?.failed ?? []),
    ]),
    packs: events.find((event) => event.summaryEvent !== undefined)?.summaryEvent?.PolicyPacks ?? {},
    output: `${result.stderr}\n${events
      .filter((event) => event.diagnosticEvent?.severity === 'error')
      .map((event) => event.diagnosticEvent?.message)
      .join('\n')}`,
  };
}

/** `<policy> <type>::<name>` of each violation at `level`, sorted and without duplicates. */
function violationsAt(result: PreviewResult, level: string): string[] {
  const subject = (urn?: string) => (urn === undefined || urn === '' ? '(stack)' : urn.split('::').slice(-2).join('::').replace(/^.*\$/, ''));
  return [...new Set(result.violations.filter((v) => v.enforcementLevel === level).map((v) => `${v.policyName} ${subject(v.resourceUrn)}`))].sort();
}

/** A shipped stack file's config, moved into namespace `ns`. */
function shippedConfig(stack: 'prod' | 'staging', ns: string): Record<string, unknown> {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> };
  // The local cluster has little of what the shipped stacks refer to (their Secrets, StorageClass, operators, issuer):
  // preflight would stop the preview before the pack runs. It is tested in preflight.e2e.test.ts.
  return { ...file.config, 'cutover:namespace': ns, 'cutover:host': `web.${ns}.example.com`, 'cutover:preflight': false };
}

beforeAll(() => {
  // Previews of the data tier and monitoring resources need their CRDs: readyCluster installs them.
  ({ env, kubeconfig } = readyCluster());
});

afterAll(async () => {
  for (const stack of stacks) {
    await stack.pulumi(['stack', 'rm', '--yes', '--force']);
  }
  for (const dir of stateDirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('policy pack on pulumi preview', () => {
  for (const stack of ['staging', 'prod'] as const) {
    it(`${stack}-like stack: no mandatory violation; every stack policy ran`, async () => {
      const ns = `policy-${stack}`;
      const result = await previewWithPack(await localStack(`policy-${stack}`, shippedConfig(stack, ns)));
      const version = (JSON.parse(readFileSync(join(ROOT, 'policy', 'package.json'), 'utf8')) as { version: string }).version;
      expect(result.packs, result.output).toEqual({ 'cutover-guardrails|local|policy': version });
      expect(result.stackPoliciesRun.sort()).toEqual(STACK_POLICIES);
      // A policy that met an unknown value during preview reports "can't run" as advisory instead of judging.
      expect(result.violations.filter((v) => v.message.includes("can't run"))).toEqual([]);
      const mandatory = violationsAt(result, 'mandatory');
      expect(mandatory).toEqual([]);
      expect(violationsAt(result, 'advisory')).toContain(`images-pinned-by-digest kubernetes:apps/v1:Deployment::${ns}/web-blue`);
      // Mandatory violations fail the preview; none lets it pass.
      expect(result.code === 0, result.output).toBe(mandatory.length === 0);
    });
  }

  it('a stack whose config lets green float on :latest (production: false): the preview fails on no-floating-images', async () => {
    const ns = 'policy-broken';
    const result = await previewWithPack(
      await localStack('policy-broken', localStackConfig(ns, { 'cutover:green': { image: 'registry.example.com/acme/web:latest' } })),
    );
    expect(result.code).not.toBe(0);
    const floating = result.violations.filter((v) => v.policyName === 'no-floating-images');
    expect(floating.map((v) => `${v.enforcementLevel} ${v.resourceUrn?.split('::').pop()}`)).toEqual([`mandatory ${ns}/web-green`]);
    expect(floating[0].message).toContain(
      `Deployment ${ns}/web-green spec.template containers "app" image: floats on :latest, got "registry.example.com/acme/web:latest"`,
    );
    expect(result.output).toContain('preview failed');
  });
});
