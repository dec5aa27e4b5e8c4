import { describe, expect, it } from 'vitest';
import { renderChart } from '../../lib';
import { ConfigError, parseStackConfig } from '../../stacks/config';
import { buildPlatform } from '../../stacks/platform';
import { readStackFile } from '../../stacks/stack-file';
import { synthesize } from '../../stacks/synthesize';
import { planTransition } from '../../stacks/transition';

const ROOT = `${__dirname}/../..`;
const CONTRACT = JSON.stringify({ contract: { image: 'registry.example.com/acme/web-migrate:1.0.0', command: ['migrate', 'contract'] } });

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.message);
  }
  throw new Error('expected a ConfigError');
}

describe('synthesize: one pipeline from raw config to objects', () => {
  const raw = readStackFile(ROOT, 'prod');

  it('renders what parse → transition → build renders, as after an update that did not switch', () => {
    const parsed = parseStackConfig({ ...raw, 'cutover:idleReplicas': '0' }, 'prod');
    const settled = planTransition(parsed, { activeColor: parsed.activeColor }).config;
    const expected = renderChart(buildPlatform(settled).chart).map((r) => r.manifest);
    const { objects, config } = synthesize({ ...raw, 'cutover:idleReplicas': '0' }, 'prod');
    expect(objects.map((r) => r.manifest)).toEqual(expected);
    // idleReplicas applied: green (idle) retired.
    expect(config.green.replicas).toBe(0);
  });

  it('refuses, without a previous update, a contract migration while the old color still runs, as pulumi up does', () => {
    expect(problems(() => synthesize({ ...raw, 'cutover:migrations': CONTRACT }, 'prod'))).toEqual([
      'migrations.contract: runs only once the old color is retired, got green still running (web); retire it first: `pulumi config set ' +
        'idleReplicas 0` ' +
        '(it may go in the same update as the contract step, which then waits for the scale-down)',
    ]);
    expect(synthesize({ ...raw, 'cutover:migrations': CONTRACT, 'cutover:idleReplicas': '0' }, 'prod').platform.contract).toBeDefined();
  });

  it('refuses a contract migration in the update that switches, given the previous update', () => {
    expect(
      problems(() => synthesize({ ...raw, 'cutover:migrations': CONTRACT, 'cutover:activeColor': 'green' }, 'prod', { activeColor: 'blue' })),
    ).toEqual([
      expect.stringMatching(
        /^migrations\.contract: runs only in an update of its own, got it in the update that switches traffic from blue to green; /,
      ),
    ]);
  });

  it("reports the config's problems and those only the constructs find in one error, without repeating one", () => {
    // rateLimitRps is the Ingress router's (the gateway router refuses it for that reason alone).
    const INGRESS = { 'cutover:routing': '{"router":"ingress"}' };
    const postgres = { ...JSON.parse(raw['cutover:postgres']), storageClass: 'Fast SSD' };
    expect(
      problems(() => synthesize({ ...raw, ...INGRESS, 'cutover:rateLimitRps': '0', 'cutover:postgres': JSON.stringify(postgres) }, 'prod')),
    ).toEqual([
      'rateLimitRps: must be a whole number from 1 to ∞, got "0"; e.g. `pulumi config set rateLimitRps 20`',
      'postgres.storageClass: must be a lowercase DNS label of at most 63 characters starting with a letter, got "Fast SSD"; e.g. "fast-ssd"',
    ]);
    // And the transition's, judged on the same run.
    const conflict = {
      ...raw,
      ...INGRESS,
      'cutover:rateLimitRps': '0',
      'cutover:idleReplicas': '0',
      'cutover:green': JSON.stringify({ image: 'registry.example.com/acme/web:1.5.0', replicas: 3 }),
    };
    expect(problems(() => synthesize(conflict, 'prod'))).toEqual([
      expect.stringMatching(/^rateLimitRps: /),
      expect.stringMatching(/^green\.replicas: sizes the idle color while idleReplicas \(0\) does too, got 3; /),
    ]);
    // The config refuses the host; the Ingress's own check of the same host is not repeated.
    expect(problems(() => synthesize({ ...raw, 'cutover:host': 'a b' }, 'prod'))).toEqual([
      expect.stringMatching(/^host: is not a DNS name, got "a b"; /),
    ]);
  });

  it("reports the transition's problems and the constructs' in one error", () => {
    const bad = {
      ...raw,
      'cutover:idleReplicas': '0',
      'cutover:green': JSON.stringify({ image: 'registry.example.com/acme/web:1.5.0', replicas: 3 }),
      'cutover:postgres': '{"instances":1}',
    };
    expect(problems(() => synthesize(bad, 'prod'))).toEqual([
      expect.stringMatching(/^green\.replicas: sizes the idle color while idleReplicas \(0\) does too, got 3; /),
      expect.stringMatching(/^postgres\.instances: production needs a primary and at least 2 replicas, got 1; /),
      expect.stringMatching(/^postgres\.backup\.destinationPath: is required while backups are on, got none; /),
    ]);
  });
});
