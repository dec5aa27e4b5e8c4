import { execFileSync } from 'node:child_process';
import { delimiter, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// The tools suite: rendered manifests checked by upstream static-analysis tools (netpolicy, actionlint, kube-score from
// `scripts/toolchain install lint`; promtool from `scripts/system-packages`). `npm run test:tools` installs them
// first. Their bin dirs come from `scripts/toolchain path lint`; when that fails (not installed yet) the suite
// still starts on the ambient PATH, and runTool names the missing binary and how to install it. Paths are relative
// to the working directory, like vitest's own root and `include`: run it from the repository root.
function lintToolsPath(): string {
  try {
    return execFileSync(resolve('scripts', 'toolchain'), ['path', 'lint'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    process.stderr.write(`vitest.tools.config: lint tools not on PATH: ${stderr.trim()}\n`);
    return '';
  }
}

const lintPath = lintToolsPath();

export default defineConfig({
  test: {
    include: ['test/tools/**/*.tools.test.ts'],
    // No vitest deadline (0 disables it): the tools take as long as a busy machine needs; a tool that never answers is
    // bounded by the test's own wait, which says what it waited for.
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
    fileParallelism: false,
    env: { PATH: lintPath === '' ? (process.env.PATH ?? '') : `${lintPath}${delimiter}${process.env.PATH ?? ''}` },
  },
});
