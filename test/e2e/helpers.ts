import { expect } from 'vitest';

/** Polls `check` every 250 ms until it holds; fails after `seconds`, naming what it waited for. */
export async function waitFor(what: string, check: () => Promise<boolean>, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}

/** Expects a command to have exited 0, showing its output otherwise. */
export function expectSucceeded(result: { code: number | null; stdout: string; stderr: string }): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}
