import { describe, expect, it } from 'vitest';
import { AppFacts, RollbackFacts, judgeRollback } from '../../stacks/rollback';

/** Blue live since the last completed update; green idle at full size, unchanged, every replica ready. */
function facts(app: Partial<AppFacts> = {}, overrides: Partial<RollbackFacts> = {}): RollbackFacts {
  return {
    previous: { activeColor: 'blue' },
    configuredColor: 'blue',
    trafficWeight: 0,
    apps: [
      {
        app: 'web',
        liveColor: 'blue',
        deployment: { revision: '2', generation: 4, observedGeneration: 4, replicas: 3, readyReplicas: 3, updatedReplicas: 3 },
        recordedRevision: '2',
        readyEndpoints: 3,
        ...app,
      },
    ],
    ...overrides,
  };
}

describe('judgeRollback', () => {
  it('moves to the idle color of the last completed update when its Deployment is unchanged and every replica is a ready endpoint', () => {
    expect(judgeRollback(facts())).toEqual({ from: 'blue', to: 'green', problems: [] });
    expect(judgeRollback(facts({ liveColor: 'green' }, { previous: { activeColor: 'green' }, configuredColor: 'green' }))).toMatchObject({
      from: 'green',
      to: 'blue',
      problems: [],
    });
  });

  it('refuses a color whose pods stopped being ready, naming the Service and the count', () => {
    expect(
      judgeRollback(
        facts({
          readyEndpoints: 0,
          deployment: { revision: '2', generation: 4, observedGeneration: 4, replicas: 3, readyReplicas: 0, updatedReplicas: 3 },
        }),
      ).problems,
    ).toEqual([
      'web: Deployment web-green is not rolled out and ready (0 of 3 ready, 3 updated, generation 4 of 4 observed)',
      "web: Service web-green has 0 ready endpoint(s), needs 3 (the Deployment's replicas); traffic stays on blue",
    ]);
    // One replica short is short: the gate-free path needs the whole color.
    expect(judgeRollback(facts({ readyEndpoints: 2 })).problems).toEqual([
      "web: Service web-green has 2 ready endpoint(s), needs 3 (the Deployment's replicas); traffic stays on blue",
    ]);
  });

  it('refuses a Deployment with a pod template rolled out since the last update, or one the state does not know', () => {
    expect(
      judgeRollback(facts({ deployment: { revision: '3', generation: 5, observedGeneration: 5, replicas: 3, readyReplicas: 3, updatedReplicas: 3 } }))
        .problems,
    ).toEqual([
      "web: Deployment web-green changed since the stack's last update (revision 3, recorded 2); use the gated path: `pulumi config set " +
        'activeColor green && pulumi up`',
    ]);
    expect(judgeRollback(facts({ recordedRevision: undefined })).problems[0]).toContain('(revision 2, recorded none)');
  });

  it('accepts a Deployment the HPA scaled since (a new generation, the same revision)', () => {
    expect(
      judgeRollback(
        facts({
          readyEndpoints: 5,
          deployment: { revision: '2', generation: 9, observedGeneration: 9, replicas: 5, readyReplicas: 5, updatedReplicas: 5 },
        }),
      ).problems,
    ).toEqual([]);
  });

  it('refuses a rollout in progress', () => {
    expect(
      judgeRollback(facts({ deployment: { revision: '2', generation: 4, observedGeneration: 3, replicas: 3, readyReplicas: 3, updatedReplicas: 1 } }))
        .problems,
    ).toEqual(['web: Deployment web-green is not rolled out and ready (3 of 3 ready, 1 updated, generation 3 of 4 observed)']);
  });

  it('refuses when the stack file and the last update disagree, or the cluster drifted', () => {
    expect(judgeRollback(facts({}, { configuredColor: 'green' })).problems).toEqual([
      'activeColor: the stack file says green, but its last completed update routed traffic to blue; finish or undo that change first (`pulumi ' +
        'up`, or `pulumi config set activeColor blue`)',
    ]);
    expect(judgeRollback(facts({ liveColor: 'green' })).problems).toEqual([
      'web: the live Service selects green, but the last completed update routed it to blue; run `pulumi up --refresh` to reconcile first',
    ]);
  });

  it('refuses a retired idle color, a missing Deployment, and a stack with no recorded update', () => {
    expect(judgeRollback(facts({}, { previous: { activeColor: 'blue', idle: { color: 'green', replicas: 0 } } })).problems).toEqual([
      'green runs 0 replica(s) since the last update (idleReplicas): it is retired, not a rollback target; scale it back up with `pulumi up` first',
    ]);
    expect(judgeRollback(facts({ deployment: undefined })).problems).toEqual([
      'web: Deployment web-green does not exist; a rollback needs the idle color deployed',
    ]);
    expect(judgeRollback(facts({}, { previous: {} }))).toEqual({
      problems: ['the stack has no completed update that recorded its live color (cutoverState output); run `pulumi up` first'],
    });
  });

  it('refuses a weighted shift in progress: the fast path moves Services only, and a shift routes by weights', () => {
    expect(judgeRollback(facts({}, { trafficWeight: 25 })).problems).toEqual([
      "trafficWeight: a weighted shift is in progress (25% to green); finish or abort it with `pulumi up` first (docs: the runbook's weighted shift)",
    ]);
  });

  it('judges every app: one not ready keeps all of them where they are', () => {
    const two = facts();
    const decision = judgeRollback({ ...two, apps: [...two.apps, { ...two.apps[0], app: 'api', readyEndpoints: 1 }] });
    expect(decision.problems).toEqual(["api: Service api-green has 1 ready endpoint(s), needs 3 (the Deployment's replicas); traffic stays on blue"]);
  });
});
