import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function synth(args: string[]) {
  return spawnSync(TSX, [join(ROOT, 'scripts', 'synth.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('npm run synth', () => {
  it('writes every object of the prod stack as YAML', () => {
    const out = mkdtempSync(join(tmpdir(), 'synth-'));
    const result = synth(['--stack', 'prod', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const files = readdirSync(out);
    // Every object of the prod stack, the template Service of each color included.
    expect(files).toHaveLength(45);
    const service = files.map((f) => parse(readFileSync(join(out, f), 'utf8'))).find((m) => m.kind === 'Service' && m.metadata.name === 'web');
    expect(service.spec.selector['cutover.dev/color']).toBe('blue');
  });

  it('applies --config overrides for that run only', () => {
    const out = mkdtempSync(join(tmpdir(), 'synth-'));
    expect(synth(['--stack', 'prod', '--out', out, '--config', 'activeColor=green']).status).toBe(0);
    const live = readdirSync(out)
      .map((f) => parse(readFileSync(join(out, f), 'utf8')))
      .find((m) => m.kind === 'Service' && m.metadata.name === 'web');
    expect(live.spec.selector['cutover.dev/color']).toBe('green');
    expect(readFileSync(join(ROOT, 'Pulumi.prod.yaml'), 'utf8')).toContain('cutover:activeColor: blue');
  });

  it('takes --config paths as `pulumi config set --path` does: a boolean field and a list item', () => {
    const out = mkdtempSync(join(tmpdir(), 'synth-'));
    expect(synth(['--stack', 'staging', '--out', out, '--config', 'gate.enabled=false', '--config', 'secretNames[0]=web-extra']).status).toBe(0);
    type Rendered = { kind: string; metadata: { name: string }; spec?: { template?: { spec: { containers: { envFrom?: unknown[] }[] } } } };
    const manifests = readdirSync(out).map((f) => parse(readFileSync(join(out, f), 'utf8')) as Rendered);
    expect(manifests.filter((m) => m.kind === 'Job' && m.metadata.name.includes('-gate-'))).toEqual([]);
    const deployment = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'web-blue');
    expect(deployment?.spec?.template?.spec.containers[0].envFrom).toContainEqual({ secretRef: { name: 'web-extra' } });
  });

  it('exits non-zero with the config message and writes nothing on bad config', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'synth-')), 'prod');
    const result = synth(['--stack', 'prod', '--out', out, '--config', 'activeColor=purple']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cutover:activeColor: must be blue or green, got "purple"');
    expect(existsSync(out)).toBe(false);
  });

  it('keeps the previous output when a later run fails', () => {
    const out = mkdtempSync(join(tmpdir(), 'synth-'));
    writeFileSync(join(out, 'marker.yaml'), 'kept: true\n');
    expect(synth(['--stack', 'prod', '--out', out, '--config', 'green.image=acme/web']).status).toBe(1);
    expect(readdirSync(out)).toEqual(['marker.yaml']);
  });

  it('refuses an unknown stack', () => {
    const result = synth(['--stack', 'qa']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('stack: no Pulumi.qa.yaml in');
  });

  it('is what `npm run synth` runs', () => {
    const scripts = JSON.parse(
      execFileSync('node', ['-e', 'process.stdout.write(JSON.stringify(require("./package.json").scripts))'], { cwd: ROOT, encoding: 'utf8' }),
    );
    expect(scripts.synth).toBe('tsx scripts/synth.ts');
  });
});
