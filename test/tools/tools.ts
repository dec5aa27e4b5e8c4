import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Repository root. */
export const ROOT = join(__dirname, '..', '..');

/** What a tool run returned. */
export interface ToolResult {
  /** Exit status. */
  readonly status: number;
  /** Everything written to standard output. */
  readonly stdout: string;
  /** Everything written to standard error. */
  readonly stderr: string;
}

/** Options of {@link runTool}. */
export interface RunToolOptions {
  /**
   * Written to the tool's standard input.
   * @default nothing (standard input is empty)
   */
  readonly input?: string;
  /**
   * Working directory of the tool.
   * @default the repository root
   */
  readonly cwd?: string;
}

// Large enough for a whole environment's connectivity report or lint output.
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs `bin` (looked up on PATH; the tools suite puts the toolchain's lint bins there) and returns its exit
 * status and output. A non-zero status is returned, not thrown: rejecting input is what the tests check.
 * Throws when the binary is not on PATH or could not run to an exit status.
 */
export function runTool(bin: string, args: string[], options: RunToolOptions = {}): ToolResult {
  const result = spawnSync(bin, args, {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    maxBuffer: MAX_OUTPUT_BYTES,
  });
  if (result.error !== undefined) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${bin}: not found on PATH: run \`npm run test:tools\`, which installs it`);
    }
    throw new Error(`${bin}: could not run: ${result.error.message}`);
  }
  if (result.status === null) {
    throw new Error(`${bin} ${args.join(' ')}: killed by ${result.signal ?? 'a signal'}; stderr: ${result.stderr}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The value of `name` in `scripts/toolchain.d/versions`, the one place tool versions are pinned
 * (e.g. `pinnedVersion('ACTIONLINT_VERSION')` is `1.7.12`). Throws when it is not pinned there as a plain value.
 */
export function pinnedVersion(name: string, versionsFile = join(ROOT, 'scripts', 'toolchain.d', 'versions')): string {
  const line = readFileSync(versionsFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}=`));
  if (line === undefined) {
    throw new Error(`${name}: not pinned in ${versionsFile}; add a line ${name}=<version> there`);
  }
  const value = line.slice(name.length + 1).trim();
  if (!/^[0-9A-Za-z.+-]+$/.test(value)) {
    throw new Error(`${name}: not a plain version in ${versionsFile}, got "${value}"; pin a literal version`);
  }
  return value;
}
