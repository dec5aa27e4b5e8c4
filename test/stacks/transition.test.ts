import * as pulumi from '@pulumi/pulumi';
import { FakeCluster } from '../fake-cluster';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../lib';
import { waitsFor } from '../../lib/gates/gate-job';
import { parseStackConfig } from '../../stacks/config';
import { buildPlatform } from '../../stacks/platform';
import { readStackFile } from '../../stacks/stack-file';
import { PreviousState, checkContract, parsePreviousState, planTransition } from '../../stacks/transition';
import { Registration, recordRegistrations } from '../pulumi-mocks';

// An update is judged against the last completed one (its `cutoverState` output): idleReplicas never resizes in the
// update that switches, a color retired by idleReplicas cannot be switched to, and a contract migration runs only in
// an update of its own once the old color is retired.

const ROOT = `${__dirname}/../..`;
const CONTRACT = { image: 'registry.example.com/acme/web-migrate:1.5.0', command: ['migrate', 'contract'] };

function config(overrides: Record<string, unknown> = {}) {
  const raw = { ...readStackFile(ROOT, 'prod') };
  for (const [key, value] of Object.entries(overrides)) {
    raw[`cutover:${key}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return parseStackConfig(raw, 'prod');
}

const messages = (problems: readonly { message: string }[]) => problems.map((p) => p.message);

describe('planTransition', () => {
  it("applies idleReplicas to every app's idle color when the update does not switch", () => {
    const t = planTransition(
      config({
        idleReplicas: '0',
        services: {
          api: {
            host: 'api.example.com',
            blue: { image: 'registry.example.com/acme/api:2.0.0' },
            green: { image: 'registry.example.com/acme/api:2.1.0' },
          },
        },
      }),
      { activeColor: 'blue' },
    );
    expect(t.switching).toBe(false);
    expect(t.problems).toEqual([]);
    expect(t.config.apps.map((app) => `${app.name} green=${app.green.replicas} blue=${app.blue.replicas}`)).toEqual([
      'web green=0 blue=undefined',
      'api green=0 blue=undefined',
    ]);
    expect(t.idle).toEqual({ color: 'green', replicas: 0 });
    const rendered = renderChart(buildPlatform(t.config).chart).map((r) => r.manifest as any);
    expect(rendered.find((m) => m.kind === 'Deployment' && m.metadata.name === 'api-green').spec.replicas).toBe(0);
    expect(rendered.find((m) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.name === 'web-green')).toBeUndefined();
  });

  it('leaves the old color at full size in the update that switches, and says when idleReplicas applies', () => {
    const t = planTransition(config({ activeColor: 'green', idleReplicas: '0' }), { activeColor: 'blue' });
    expect(t.switching).toBe(true);
    expect(t.config.blue.replicas).toBeUndefined();
    expect(t.idle).toBeUndefined();
    expect(t.notes).toEqual([expect.stringMatching(/^idleReplicas \(0\) applies to blue from the next update: this one switches traffic to green/)]);
    // The next update (traffic recorded on green) retires blue.
    expect(planTransition(config({ activeColor: 'green', idleReplicas: '0' }), { activeColor: 'green' }).config.blue.replicas).toBe(0);
  });

  it('treats a first update (no record) as not switching', () => {
    expect(planTransition(config(), {}).switching).toBe(false);
  });

  it('refuses to switch to a color that idleReplicas retired in the last update', () => {
    const t = planTransition(config({ activeColor: 'green' }), { activeColor: 'blue', idle: { color: 'green', replicas: 0 } });
    expect(messages(t.problems)).toEqual([
      expect.stringMatching(
        /^activeColor: green runs 0 replica\(s\) since the last update \(idleReplicas\), got activeColor=green; scale it back up/,
      ),
    ]);
    // Back at full size (the last update recorded no idle size): the switch is fine.
    expect(planTransition(config({ activeColor: 'green' }), { activeColor: 'blue' }).problems).toEqual([]);
  });

  it("refuses idleReplicas together with the idle color's own replicas", () => {
    const t = planTransition(config({ idleReplicas: '0', green: { image: 'registry.example.com/acme/web:1.5.0', replicas: 3 } }), {
      activeColor: 'blue',
    });
    expect(messages(t.problems)).toEqual([
      expect.stringMatching(/^green\.replicas: sizes the idle color while idleReplicas \(0\) does too, got 3; keep one/),
    ]);
  });

  it('reads only a well-formed record', () => {
    expect(
      parsePreviousState({ activeColor: 'green', idle: { color: 'blue', replicas: 0 }, contractMigration: 'web-migrate-contract-1a2b3c4d' }),
    ).toEqual({
      activeColor: 'green',
      idle: { color: 'blue', replicas: 0 },
      contractMigration: 'web-migrate-contract-1a2b3c4d',
    });
    expect(parsePreviousState({ activeColor: 'purple', idle: null, contractMigration: null })).toEqual({});
    expect(parsePreviousState(undefined)).toEqual({});
  });
});

describe('contract migrations', () => {
  const contractName = (overrides: Record<string, unknown>, previous: PreviousState) => {
    const t = planTransition(config({ migrations: { contract: CONTRACT }, ...overrides }), previous);
    const platform = buildPlatform(t.config);
    return { t, platform, problems: messages(checkContract(t, previous, platform.contract?.name)) };
  };

  it('runs once the old color is retired, in an update that does not switch, after the scale-down', () => {
    const { problems, platform } = contractName({ idleReplicas: '0' }, { activeColor: 'blue' });
    expect(problems).toEqual([]);
    const contract = platform.contract!;
    expect(contract.name).toMatch(/^web-migrate-contract-[0-9a-f]{8}$/);
    expect(waitsFor(contract.job, platform.web.colors.green!.deployment)).toBe(true);
    const policy = renderChart(platform.chart).find((r) => r.manifest.kind === 'NetworkPolicy' && r.manifest.metadata.name === 'web-migrate-contract')
      ?.manifest as any;
    expect(JSON.stringify(policy.spec.egress)).toContain('5432');
  });

  it('is refused in the update that switches colors', () => {
    const { problems } = contractName({ activeColor: 'green', idleReplicas: '0' }, { activeColor: 'blue' });
    expect(problems).toEqual([
      expect.stringMatching(
        /^migrations\.contract: runs only in an update of its own, got it in the update that switches traffic from blue to green/,
      ),
    ]);
  });

  it('is refused while the old color still runs', () => {
    const { problems } = contractName({}, { activeColor: 'blue' });
    expect(problems).toEqual([
      expect.stringMatching(/^migrations\.contract: runs only once the old color is retired, got green still running \(web\)/),
    ]);
  });

  it('once completed, stays as it is through later switches and never runs again', () => {
    const done = contractName({ idleReplicas: '0' }, { activeColor: 'blue' }).platform.contract!.name;
    const { problems, platform } = contractName({ activeColor: 'green' }, { activeColor: 'blue', contractMigration: done });
    expect(problems).toEqual([]);
    expect(platform.contract!.name).toBe(done);
  });
});

describe('the program reads the last completed update', () => {
  let registrations: Registration[] = [];
  beforeAll(async () => {
    registrations = await recordRegistrations();
  });

  it('registers nothing when the transition is refused, naming the key', async () => {
    registrations.length = 0;
    const { run } = await import('../../stacks/index');
    const raw = { ...readStackFile(ROOT, 'prod'), 'cutover:activeColor': 'green', 'cutover:migrations': JSON.stringify({ contract: CONTRACT }) };
    const previousState = (): Promise<PreviousState> => Promise.resolve({ activeColor: 'blue' });
    await expect(run(raw, 'prod', { previousState, probe: new FakeCluster() })).rejects.toThrow(pulumi.RunError);
    await expect(run(raw, 'prod', { previousState, probe: new FakeCluster() })).rejects.toThrow(
      /cutover:migrations\.contract: runs only in an update of its own/,
    );
    expect(registrations).toEqual([]);
  });

  it('records the idle size it applied, for the next update', async () => {
    const { run } = await import('../../stacks/index');
    const raw = { ...readStackFile(ROOT, 'prod'), 'cutover:idleReplicas': '0' };
    const { outputs } = await run(raw, 'prod', { previousState: () => Promise.resolve({ activeColor: 'blue' }), probe: new FakeCluster() });
    expect(await new Promise((resolve) => outputs.cutoverState.apply(resolve))).toEqual({
      activeColor: 'blue',
      idle: { color: 'green', replicas: 0 },
      contractMigration: null,
    });
  });
});
