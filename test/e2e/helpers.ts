import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { clusterUp, installCrds, toolchainEnv } from '../../scripts/local';
import { CRD_DIRECTORY, CRD_FILES } from '../crd-schema';

/**
 * The local control plane, up, with every pinned CRD installed (the stacks render Prometheus Operator,
 * CloudNativePG and redis-operator resources): the toolchain environment and the kubeconfig path.
 */
export function readyCluster(): { env: Record<string, string>; kubeconfig: string } {
  const env = toolchainEnv();
  const kubeconfig = clusterUp(env);
  installCrds(env, kubeconfig, CRD_FILES.map((file) => join(CRD_DIRECTORY, file)));
  return { env, kubeconfig };
}

/** Deletes `namespace` if a run that died half-way (or a cluster restarted from its etcd data) left it behind. */
export function deleteNamespace(env: Record<string, string>, kubeconfig: string, namespace: string): void {
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--ignore-not-found', '--wait', '--timeout=120s'], { env, stdio: 'inherit' });
}

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
