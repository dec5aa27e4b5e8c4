import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesize } from '../../stacks/synthesize';
import {
  ReleaseRequest,
  StackSnapshot,
  formatRecord,
  parseRecord,
  planWaves,
  releaseId,
  releaseRefusals,
  rollbackOrder,
  rollbackTargets,
  servingSummary,
  stackActions,
  stepsOutside,
  switchObjects,
  targetFromFiles,
} from '../../stacks/release';
import { readStackFile } from '../../stacks/stack-file';

const ROOT = resolve(__dirname, '..', '..');
const REQUEST: ReleaseRequest = { to: 'green', stacks: ['prod-us-east', 'prod-eu-west', 'prod-ap-south'], canary: [] };
const ID = releaseId(REQUEST);

function snapshot(name: string, fields: Partial<StackSnapshot> = {}): StackSnapshot {
  return {
    name,
    configColor: 'blue',
    deployedColor: 'blue',
    locked: false,
    pendingOperations: 0,
    targetImages: { web: 'registry.example.com/acme/web:1.5.0' },
    ...fields,
  };
}

describe('release record (the stack tag)', () => {
  it('round-trips, and a value it did not write is no record', () => {
    const record = { id: ID, to: 'green' as const, state: 'switched' as const, at: '2026-12-01T14:00:00.000Z' };
    expect(formatRecord(record)).toBe(`id=${ID};to=green;state=switched;at=2026-12-01T14:00:00.000Z`);
    expect(parseRecord(formatRecord(record))).toEqual(record);
    expect(formatRecord(record).length).toBeLessThanOrEqual(256);
    expect(parseRecord(undefined)).toBeUndefined();
    expect(parseRecord('owner=team-web')).toBeUndefined();
    expect(parseRecord(`id=${ID};to=purple;state=switched;at=x`)).toBeUndefined();
    expect(parseRecord(`id=${ID};to=green;state=exploded;at=x`)).toBeUndefined();
  });

  it('names a release by its target and its stacks in order, the same on every run', () => {
    expect(releaseId(REQUEST)).toBe(ID);
    expect(ID).toMatch(/^green-[0-9a-f]{10}$/);
    expect(releaseId({ ...REQUEST, to: 'blue' })).not.toBe(ID);
    expect(releaseId({ ...REQUEST, stacks: [...REQUEST.stacks].reverse() })).not.toBe(ID);
  });
});

describe('waves', () => {
  it('switch the first stack alone, then the rest, unless --canary names the first wave', () => {
    expect(planWaves(REQUEST)).toEqual([['prod-us-east'], ['prod-eu-west', 'prod-ap-south']]);
    expect(planWaves({ ...REQUEST, canary: ['prod-eu-west', 'prod-ap-south'] })).toEqual([['prod-eu-west', 'prod-ap-south'], ['prod-us-east']]);
    expect(planWaves({ ...REQUEST, stacks: ['staging'] })).toEqual([['staging']]);
  });

  it('refuse a repeated stack and a canary outside the release, naming the argument', () => {
    expect(() => planWaves({ to: 'green', stacks: ['a', 'b', 'a'], canary: ['c'] })).toThrow(
      '--stacks: names a more than once; name each stack once\n--canary: c is not one of --stacks (a, b, a); the canary wave is part of the release',
    );
    expect(() => planWaves({ to: 'green', stacks: [], canary: [] })).toThrow(
      '--stacks: needs at least one stack, got none; e.g. --stacks prod-us-east,prod-eu-west',
    );
  });
});

describe('the target color', () => {
  it('is what every stack file says when --to is not given, and refused when they disagree', () => {
    expect(
      targetFromFiles([
        { name: 'prod-us-east', configColor: 'green' },
        { name: 'prod-eu-west', configColor: 'green' },
      ]),
    ).toBe('green');
    expect(() =>
      targetFromFiles([
        { name: 'prod-us-east', configColor: 'green' },
        { name: 'prod-eu-west', configColor: 'blue' },
      ]),
    ).toThrow(
      '--to: not given, and the stack files disagree on activeColor (prod-us-east: green, prod-eu-west: blue); give --to, or set the same ' +
        'activeColor in every stack file of the release',
    );
  });
});

describe('before anything changes', () => {
  const clean = new Map(REQUEST.stacks.map((name) => [name, { outside: [] }]));

  it('a release of stacks that agree, unlocked, whose previews change only routing objects, may start', () => {
    expect(
      releaseRefusals(
        REQUEST,
        REQUEST.stacks.map((name) => snapshot(name)),
        clean,
      ),
    ).toEqual([]);
  });

  it('refuses with every reason at once, each naming its stack', () => {
    const snapshots = [
      snapshot('prod-us-east', { locked: true }),
      snapshot('prod-eu-west', { pendingOperations: 2, targetImages: { web: 'registry.example.com/acme/web:1.5.1' } }),
      snapshot('prod-ap-south', { record: { id: 'blue-0123456789', to: 'blue', state: 'switched', at: '2026-11-30T10:00:00.000Z' } }),
    ];
    const previews = new Map([
      ['prod-us-east', { error: 'error: preflight found 1 problem in the cluster', outside: [] }],
      ['prod-eu-west', { outside: [{ op: 'update', type: 'kubernetes:apps/v1:Deployment', name: 'web-prod/web-green' }] }],
      ['prod-ap-south', { outside: [] }],
    ]);
    expect(releaseRefusals(REQUEST, snapshots, previews)).toEqual([
      'prod-us-east: is locked by a running update; wait for it, or, if it died, remove its lock (`pulumi cancel`, or the lock file of a file:// ' +
        'backend)',
      'prod-us-east: the preview of the switch to green failed: error: preflight found 1 problem in the cluster',
      'prod-eu-west: has 2 pending operation(s) from an interrupted update; run `pulumi refresh --stack prod-eu-west` and resolve them first ' +
        '(README: recovering an interrupted update)',
      'prod-eu-west: the switch to green would change more than routing objects: Deployment web-prod/web-green (update); deploy those changes with ' +
        '`pulumi up` on that stack first',
      'prod-ap-south: is in release blue-0123456789 (to blue, switched at 2026-11-30T10:00:00.000Z); finish or roll back that release first (`npm ' +
        'run release -- status`)',
      'web: the stacks disagree on the green image (prod-us-east, prod-ap-south: registry.example.com/acme/web:1.5.0; prod-eu-west: ' +
        'registry.example.com/acme/web:1.5.1); ' +
        'set the same `green.image` in every stack file',
    ]);
  });

  it("does not hold a stack's finished or rolled-back release against the next one", () => {
    const record = { id: 'blue-0123456789', to: 'blue' as const, state: 'done' as const, at: '2026-11-30T10:00:00.000Z' };
    expect(
      releaseRefusals(
        REQUEST,
        REQUEST.stacks.map((name) => snapshot(name, { record })),
        clean,
      ),
    ).toEqual([]);
  });
});

describe('what a switch may change', () => {
  const raw = readStackFile(ROOT, 'prod');
  const allowed = switchObjects(
    synthesize(raw, 'prod').platform,
    synthesize({ ...raw, 'cutover:activeColor': 'green' }, 'prod', { activeColor: 'blue' }).platform,
  );

  it("is every app's routing objects and both colors' gate Jobs, never a workload", () => {
    expect([...allowed].sort()).toEqual([
      'HTTPRoute web-prod/web',
      'Job web-prod/web-gate-blue',
      'Job web-prod/web-gate-green',
      'Service web-prod/web',
      'Service web-prod/web-preview',
    ]);
  });

  it("finds the preview steps outside it, ignoring reads, unchanged resources and the stack's outputs", () => {
    const steps = [
      { op: 'update', type: 'kubernetes:core/v1:Service', name: 'web-prod/web' },
      { op: 'create', type: 'kubernetes:batch/v1:Job', name: 'web-prod/web-gate-green' },
      { op: 'delete', type: 'kubernetes:batch/v1:Job', name: 'web-prod/web-gate-blue' },
      { op: 'same', type: 'kubernetes:apps/v1:Deployment', name: 'web-prod/web-blue' },
      { op: 'read', type: 'pulumi:pulumi:StackReference', name: 'organization/cutover/prod' },
      { op: 'update', type: 'pulumi:pulumi:Stack', name: 'cutover-prod' },
      { op: 'update', type: 'kubernetes:apps/v1:Deployment', name: 'web-prod/web-green' },
      { op: 'replace', type: 'kubernetes:core/v1:ConfigMap', name: 'web-prod/web-settings' },
    ];
    expect(stepsOutside(steps, allowed)).toEqual([
      { op: 'update', type: 'kubernetes:apps/v1:Deployment', name: 'web-prod/web-green' },
      { op: 'replace', type: 'kubernetes:core/v1:ConfigMap', name: 'web-prod/web-settings' },
    ]);
  });
});

describe('a re-run of the same release', () => {
  const at = '2026-12-01T14:00:00.000Z';

  it('skips what this release switched or found on the target color, and switches the interrupted and the pending again', () => {
    const snapshots = [
      snapshot('prod-us-east', { configColor: 'green', deployedColor: 'green', record: { id: ID, to: 'green', state: 'switched', at } }),
      snapshot('prod-eu-west', { configColor: 'green', record: { id: ID, to: 'green', state: 'switching', at } }),
      snapshot('prod-ap-south'),
    ];
    expect(Object.fromEntries(stackActions(REQUEST, snapshots))).toEqual({
      'prod-us-east': 'skip',
      'prod-eu-west': 'switch',
      'prod-ap-south': 'switch',
    });
    expect(Object.fromEntries(stackActions(REQUEST, [snapshot('prod-ap-south', { configColor: 'green', deployedColor: 'green' })]))).toEqual({
      'prod-ap-south': 'skip',
    });
    // A stack the release rolled back is switched again when the release is run again.
    expect(
      Object.fromEntries(stackActions(REQUEST, [snapshot('prod-us-east', { record: { id: ID, to: 'green', state: 'rolled-back', at } })])),
    ).toEqual({ 'prod-us-east': 'switch' });
  });

  it('--rollback takes back what this release switched, was switching or failed on, never what it found on the target color', () => {
    const record = (state: 'switched' | 'switching' | 'failed' | 'unchanged' | 'rolled-back' | 'done') => ({
      id: ID,
      to: 'green' as const,
      state,
      at,
    });
    const snapshots = [
      snapshot('prod-us-east', { record: record('done') }),
      snapshot('prod-eu-west', { record: record('switching') }),
      snapshot('prod-ap-south', { record: record('unchanged') }),
      snapshot('prod-sa-east', { record: record('failed') }),
      snapshot('prod-af-south', { record: record('rolled-back') }),
      snapshot('prod-me-central', { record: { ...record('switched'), id: 'green-0123456789' } }),
    ];
    expect(rollbackTargets(REQUEST, snapshots)).toEqual(['prod-us-east', 'prod-eu-west', 'prod-sa-east']);
  });

  it('switches back in reverse order of switching', () => {
    expect(rollbackOrder(['prod-us-east', 'prod-eu-west', 'prod-ap-south'])).toEqual(['prod-ap-south', 'prod-eu-west', 'prod-us-east']);
  });

  it('says when the stacks serve different colors, and what to do', () => {
    const record = { id: ID, to: 'green' as const, state: 'switched' as const, at };
    expect(
      servingSummary([
        { name: 'prod-us-east', serving: 'green', record },
        { name: 'prod-eu-west', serving: 'blue' },
      ]),
    ).toEqual([
      `prod-us-east: serving green (release ${ID}: switched at ${at})`,
      'prod-eu-west: serving blue',
      'the stacks serve different colors: prod-us-east=green prod-eu-west=blue; re-run the release to finish it, or run it with --rollback',
    ]);
    expect(
      servingSummary([
        { name: 'prod-us-east', serving: 'green' },
        { name: 'prod-eu-west', serving: 'green' },
      ]),
    ).toHaveLength(2);
  });
});
