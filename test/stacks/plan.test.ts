import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Manifest } from '../../lib';
import { diffObjects, formatPlan, planStack } from '../../stacks/plan';
import { applyOverrides, readStackFile } from '../../stacks/stack-file';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function plan(args: string[]) {
  return spawnSync(TSX, [join(ROOT, 'scripts', 'plan.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
}

const service = (name: string, color: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'ns' },
  spec: { selector: { 'cutover.dev/color': color }, ports: [{ port: 80 }] },
});

describe('planStack', () => {
  it('shows the live color, both colors, the two Service selectors a prod flip changes and the gate it runs', () => {
    const result = planStack(readStackFile(ROOT, 'prod'), 'prod');
    expect(result.colors).toEqual([
      { color: 'blue', live: true, image: 'registry.example.com/acme/web:1.4.2', replicas: 3, maxReplicas: 10 },
      { color: 'green', live: false, image: 'registry.example.com/acme/web:1.5.0', replicas: 3, maxReplicas: 10 },
    ]);
    expect(result.flip).toEqual({
      to: 'green',
      changes: [
        // The gate is per target color: blue's goes, green's runs (through Service web-green) before the Services move.
        { object: 'Job web-prod/web-gate-blue', action: 'delete', fields: [] },
        {
          object: 'Service web-prod/web-preview',
          action: 'update',
          fields: [{ path: 'spec.selector["cutover.dev/color"]', before: 'green', after: 'blue' }],
        },
        {
          object: 'Service web-prod/web',
          action: 'update',
          fields: [{ path: 'spec.selector["cutover.dev/color"]', before: 'blue', after: 'green' }],
        },
        { object: 'Job web-prod/web-gate-green', action: 'create', fields: [] },
      ],
    });
  });

  it('shows the idle color retired by idleReplicas, and refuses a flip to it', () => {
    const result = planStack({ ...readStackFile(ROOT, 'prod'), 'cutover:idleReplicas': '0' }, 'prod');
    expect(result.colors.map((c) => `${c.color} ${c.replicas}`)).toEqual(['blue 3', 'green 0']);
    // Green is retired: a flip to it is refused until it is back at full size.
    expect('refused' in result.flip ? result.flip.refused : result.flip.changes).toEqual([
      expect.stringMatching(/^activeColor: green runs 0 replica\(s\) since the last update \(idleReplicas\)/),
    ]);
  });

  it('says why a flip would be refused, instead of a diff', () => {
    const raw = applyOverrides(readStackFile(ROOT, 'staging'), ['green.replicas=0']);
    const result = planStack(raw, 'staging');
    expect(result.flip.to).toBe('green');
    expect('refused' in result.flip && result.flip.refused).toEqual([
      expect.stringContaining('green.replicas: cannot make a color scaled to 0 live'),
    ]);
    expect(result.colors[1]).toMatchObject({ color: 'green', replicas: 0 });
  });

  it('throws the config error when the current config is bad', () => {
    expect(() => planStack(applyOverrides(readStackFile(ROOT, 'prod'), ['activeColor=purple']), 'prod')).toThrow(
      /activeColor: must be blue or green/,
    );
  });
});

describe('diffObjects', () => {
  it('reports created, deleted and updated objects with every changed field', () => {
    const changed = { ...service('a', 'green'), spec: { selector: { 'cutover.dev/color': 'green' }, ports: [{ port: 81 }] } } as Manifest;
    expect(diffObjects([service('a', 'blue'), service('gone', 'blue')], [changed, service('new', 'blue')])).toEqual([
      {
        object: 'Service ns/a',
        action: 'update',
        fields: [
          { path: 'spec.selector["cutover.dev/color"]', before: 'blue', after: 'green' },
          { path: 'spec.ports[0].port', before: 80, after: 81 },
        ],
      },
      { object: 'Service ns/gone', action: 'delete', fields: [] },
      { object: 'Service ns/new', action: 'create', fields: [] },
    ]);
  });

  it('reports nothing for identical renders', () => {
    expect(diffObjects([service('a', 'blue')], [service('a', 'blue')])).toEqual([]);
  });
});

describe('npm run plan', () => {
  it('prints the summary a reviewer reads first', () => {
    const result = plan(['--stack', 'prod', '--config', 'activeColor=green']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(formatPlan(planStack(applyOverrides(readStackFile(ROOT, 'prod'), ['activeColor=green']), 'prod')));
    expect(result.stdout).toContain('Live color: green');
    expect(result.stdout).toContain('Flipping activeColor to blue would change 4 objects:');
    expect(result.stdout).toContain('  ~ Service web-prod/web\n      spec.selector["cutover.dev/color"]: green -> blue');
  });

  it('exits non-zero with usage on a bad argument', () => {
    const result = plan(['--stack', 'prod', '--out', 'x']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown argument "--out"; usage: npm run plan -- --stack <staging|prod> [--config key=value ...]');
  });
});
