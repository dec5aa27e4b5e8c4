import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const CHECKED_IN = join(ROOT, 'lib', 'imports');
const FIX = 'run `npm run import:types` and commit lib/imports/';

describe('lib/imports', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'cutover-imports-'));
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  // cdk8s import of several MB of CRDs takes as long as the machine needs: no timeout.
  it('is what scripts/import-types generates from the pinned CRDs', { timeout: 0 }, () => {
    execFileSync(join(ROOT, 'scripts', 'import-types'), [fresh], { cwd: ROOT, stdio: 'pipe' });
    const generated = readdirSync(fresh).sort();
    expect(readdirSync(CHECKED_IN).sort(), `lib/imports/ holds other files than the generator writes; ${FIX}`).toEqual(generated);
    for (const file of generated) {
      const stale = readFileSync(join(CHECKED_IN, file), 'utf8') !== readFileSync(join(fresh, file), 'utf8');
      expect(stale, `lib/imports/${file} is stale; ${FIX}`).toBe(false);
    }
  });
});
