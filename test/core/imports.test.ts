import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const CHECKED_IN = join(ROOT, 'lib', 'imports');
const FIX = 'run `npm run import:types` and commit lib/imports/';
const OPENAPI_DIR = join(ROOT, 'test', 'crds', 'kubernetes');
const REVENDOR = 'run `scripts/vendor-openapi --update` against the local control plane, then `npm run import:types`';

describe('lib/imports', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'cutover-imports-'));
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  // cdk8s import of several MB of CRDs takes as long as the machine needs: no timeout.
  it('is what scripts/import-types generates from the pinned CRDs and the vendored Kubernetes OpenAPI', { timeout: 0 }, () => {
    execFileSync(join(ROOT, 'scripts', 'import-types'), [fresh], { cwd: ROOT, stdio: 'pipe' });
    const generated = readdirSync(fresh).sort();
    expect(readdirSync(CHECKED_IN).sort(), `lib/imports/ holds other files than the generator writes; ${FIX}`).toEqual(generated);
    for (const file of generated) {
      const stale = readFileSync(join(CHECKED_IN, file), 'utf8') !== readFileSync(join(fresh, file), 'utf8');
      expect(stale, `lib/imports/${file} is stale; ${FIX}`).toBe(false);
    }
  });

  describe('the vendored Kubernetes OpenAPI lib/imports/k8s.ts is generated from', () => {
    const openapi = readFileSync(join(OPENAPI_DIR, 'openapi-v2.json'), 'utf8');

    it('is of the Kubernetes version the toolchain pins', () => {
      const versions = readFileSync(join(ROOT, 'scripts', 'toolchain.d', 'versions'), 'utf8');
      const pinned = /^KUBERNETES_VERSION=(\d+\.\d+)\.\d+$/m.exec(versions)?.[1];
      const { info } = JSON.parse(openapi) as { info: { version: string } };
      expect(info.version, `test/crds/kubernetes/openapi-v2.json is of another Kubernetes version; ${REVENDOR}`).toBe(pinned);
    });

    it('is the file its README pins', () => {
      const readme = readFileSync(join(OPENAPI_DIR, 'README.md'), 'utf8');
      const sha256 = createHash('sha256').update(openapi).digest('hex');
      expect(readme, `test/crds/kubernetes/openapi-v2.json was edited by hand; ${REVENDOR}`).toContain(`| \`openapi-v2.json\` | \`${sha256}\` |`);
    });
  });
});
