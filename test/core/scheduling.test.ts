import { describe, expect, it } from 'vitest';
import { isLabelKey, isLabelValue, schedulingProblems } from '../../lib';
import { readStackFile } from '../../stacks/stack-file';
import { configProblems, find, renderApp } from '../helpers';
import { synthesize } from '../../stacks/synthesize';

const ROOT = `${__dirname}/../..`;
const POOL = {
  nodeSelector: { 'cutover.dev/node-pool': 'real' },
  tolerations: [{ key: 'cutover.dev/real-node', operator: 'Exists' as const, effect: 'NoSchedule' as const }],
};

function renderStack(scheduling: unknown): Array<Record<string, any>> {
  const raw = { ...readStackFile(ROOT, 'staging'), 'cutover:scheduling': JSON.stringify(scheduling) };
  return synthesize(raw, 'staging').objects.map((r) => r.manifest as Record<string, any>);
}

function schedulingConfigProblems(scheduling: unknown): string[] {
  return configProblems({ ...readStackFile(ROOT, 'staging'), 'cutover:scheduling': JSON.stringify(scheduling) }, 'staging');
}

describe('scheduling', () => {
  it('renders no placement by default, and required anti-affinity on the node', () => {
    const spec = find(renderApp().manifests, 'Deployment', 'web-blue').spec.template.spec;
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.tolerations).toBeUndefined();
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  it('places both colors on the node pool with its tolerations', () => {
    const { manifests } = renderApp({ scheduling: POOL });
    for (const color of ['blue', 'green']) {
      const spec = find(manifests, 'Deployment', `web-${color}`).spec.template.spec;
      expect(spec.nodeSelector).toEqual({ 'cutover.dev/node-pool': 'real' });
      expect(spec.tolerations).toEqual([{ key: 'cutover.dev/real-node', operator: 'Exists', effect: 'NoSchedule' }]);
    }
  });

  it('preferred anti-affinity lets one node hold several pods of a color', () => {
    const spec = find(renderApp({ scheduling: { podAntiAffinity: 'preferred' } }).manifests, 'Deployment', 'web-green').spec.template.spec;
    expect(spec.affinity.podAntiAffinity).toEqual({
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web', 'cutover.dev/color': 'green' } },
            topologyKey: 'kubernetes.io/hostname',
          },
        },
      ],
    });
  });

  it('the stack key places every pod the stack runs: both colors, the gate and the migration Jobs', () => {
    const manifests = renderStack({ ...POOL, podAntiAffinity: 'preferred' });
    const templates = manifests
      .filter((m) => m.kind === 'Deployment' || m.kind === 'Job')
      .map((m) => [`${m.kind}/${m.metadata.name}`, m.spec.template.spec] as const);
    expect(templates.map(([name]) => name)).toEqual(expect.arrayContaining(['Deployment/web-blue', 'Deployment/web-green', 'Job/web-gate-blue']));
    for (const [name, spec] of templates) {
      expect(spec.nodeSelector, name).toEqual(POOL.nodeSelector);
      expect(spec.tolerations, name).toEqual(POOL.tolerations);
    }
  });

  it('reports every bad field under the config key, with the fix', () => {
    expect(
      schedulingConfigProblems({
        nodeSelector: { 'bad key!': 'x', pool: 'no spaces' },
        tolerations: [{ operator: 'Equal' }, { key: 'k', operator: 'Exists', value: 'v', effect: 'Sometimes' }],
        podAntiAffinity: 'never',
      }),
    ).toEqual([
      'scheduling.nodeSelector: "bad key!" is not a label key, got "bad key!"; use e.g. cutover.dev/node-pool',
      'scheduling.nodeSelector.pool: is not a label value, got "no spaces"; use at most 63 letters, digits, "-", "_" or "."',
      "scheduling.tolerations[0].key: is required with operator Equal, got none; give the taint's key, or use operator Exists to tolerate every " +
        'taint',
      'scheduling.tolerations[1].effect: must be one of NoSchedule, PreferNoSchedule, NoExecute, got "Sometimes"; leave it out to tolerate every ' +
        'effect',
      'scheduling.tolerations[1].value: must be empty with operator Exists, got "v"; remove it, or use operator Equal',
      'scheduling.podAntiAffinity: must be required or preferred, got "never"; use preferred only where there are fewer nodes than replicas',
    ]);
  });

  it('reports unknown fields with a suggestion', () => {
    expect(schedulingConfigProblems({ nodeSelecter: {} })).toEqual([
      'scheduling.nodeSelecter: is not a scheduling field, got {}; use one of nodeSelector, tolerations, podAntiAffinity; did you mean ' +
        '"nodeSelector"?',
    ]);
  });

  it('the construct refuses a bad placement with the same message', () => {
    expect(() => renderApp({ scheduling: { podAntiAffinity: 'sometimes' as 'required' } })).toThrow(
      'scheduling.podAntiAffinity: must be required or preferred, got "sometimes"; use preferred only where there are fewer nodes than replicas',
    );
    expect(schedulingProblems('scheduling', POOL)).toEqual([]);
  });

  it('label keys and values follow the API server rules', () => {
    expect(['app', 'cutover.dev/node-pool', 'a.b-c_d', 'x'.repeat(63)].every(isLabelKey)).toBe(true);
    expect(['', '-a', 'a/', '/a', 'UPPER.example.com/x', 'x'.repeat(64), 'a b'].some(isLabelKey)).toBe(false);
    expect(['', 'real', 'A-1_b.c'].every(isLabelValue)).toBe(true);
    expect(['-a', 'a-', 'a b', 'x'.repeat(64)].some(isLabelValue)).toBe(false);
  });
});
