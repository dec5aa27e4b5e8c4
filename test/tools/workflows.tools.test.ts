import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runTool } from './tools';

const WORKFLOWS = join(ROOT, '.github', 'workflows');

/** A copy of the repository's .github/ in a scratch directory, so a test can break one file. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
  for (const sub of ['workflows', 'actions/setup']) {
    mkdirSync(join(dir, '.github', sub), { recursive: true });
    for (const file of readdirSync(join(ROOT, '.github', sub))) {
      copyFileSync(join(ROOT, '.github', sub, file), join(dir, '.github', sub, file));
    }
  }
  return dir;
}

describe('actionlint on .github/workflows', () => {
  it('finds nothing in the workflows, shell steps included', () => {
    const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml'));
    expect(files.sort()).toEqual(['deploy.yml', 'drift.yml', 'preview.yml', 'release.yml']);
    expect(runTool('shellcheck', ['--version']).status).toBe(0);
    const result = runTool('actionlint', ['-no-color', ...files.map((f) => join(WORKFLOWS, f))]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('reports a job that needs a job that does not exist, and an unquoted variable in a run step', () => {
    const dir = scratchCopy();
    const deploy = join(dir, '.github', 'workflows', 'deploy.yml');
    writeFileSync(
      deploy,
      readFileSync(deploy, 'utf8')
        .replace('needs: staging', 'needs: stagin')
        .replace('      - run: npm test', '      - run: echo $GITHUB_SHA > $RUNNER_TEMP/sha'),
    );
    const result = runTool('actionlint', ['-no-color', deploy], { cwd: dir });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/job "prod" needs job "stagin" which does not exist/);
    expect(result.stdout).toMatch(/SC2086/);
  });
});
