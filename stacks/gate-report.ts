import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';

/**
 * Reads what the pods of a finished Job printed: their termination messages (the gate scripts copy their output there,
 * see `reportingScript` in lib/gates/migration-job.ts). Rejects when the cluster cannot be asked.
 */
export type JobOutputReader = (namespace: string, job: string) => Promise<string>;

/** Where the Kubernetes provider connects: the stack's `kubernetes:kubeconfig` (a path or the file's contents) and `kubernetes:context`. */
export interface ProviderCluster {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/**
 * The `kubectl` arguments that reach the cluster the provider deploys to. A kubeconfig given as contents (what the
 * provider also accepts) is written to a private temporary file, which `cleanup` removes.
 */
export function kubectlClusterArgs(cluster: ProviderCluster): { args: string[]; cleanup: () => void } {
  const args: string[] = [];
  let cleanup = (): void => undefined;
  const kubeconfig = cluster.kubeconfig;
  if (kubeconfig !== undefined && kubeconfig.trim() !== '') {
    // A path is one line; contents (YAML or JSON) are several, or an object.
    if (/[\n{]/.test(kubeconfig.trim())) {
      const dir = mkdtempSync(join(tmpdir(), 'cutover-kubeconfig-'));
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, kubeconfig, { mode: 0o600 });
      cleanup = () => rmSync(dir, { recursive: true, force: true });
      args.push('--kubeconfig', file);
    } else {
      args.push('--kubeconfig', kubeconfig.trim());
    }
  }
  if (cluster.context !== undefined) {
    args.push('--context', cluster.context);
  }
  return { args, cleanup };
}

/**
 * A {@link JobOutputReader} that asks the cluster with `kubectl` (read-only: `get pods`), through the same kubeconfig
 * and context as the Kubernetes provider: the stack's `kubernetes:kubeconfig` and `kubernetes:context` when set,
 * else `KUBECONFIG` (or `~/.kube/config`) and its current context.
 */
export function kubectlJobOutput(cluster: ProviderCluster = {}): JobOutputReader {
  return (namespace, job) =>
    new Promise((resolve, reject) => {
      const { args: clusterArgs, cleanup } = kubectlClusterArgs(cluster);
      const args = [
        ...clusterArgs,
        '--namespace',
        namespace,
        'get',
        'pods',
        '--selector',
        `job-name=${job}`,
        '--output',
        'jsonpath={range .items[*]}{.status.containerStatuses[0].state.terminated.message}{end}',
      ];
      execFile('kubectl', args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
        cleanup();
        if (error !== null) {
          reject(new Error(`kubectl ${args.join(' ')}: ${(stderr || error.message).trim()}`));
        } else {
          resolve(stdout);
        }
      });
    });
}

/** A gate Job as the program registered it. */
export interface GateJob {
  readonly namespace: string;
  readonly name: string;
  readonly resource: pulumi.CustomResource & { readonly status: pulumi.Output<{ succeeded?: number } | undefined> };
}

/**
 * What each gate printed, for the update output: a stack output (`gates`, shown under `Outputs:` by every `pulumi up`)
 * and an info line on the Job. Read once the Job has succeeded (Pulumi waits for that before anything that routes
 * traffic); a failed gate's output is in the update's error instead. A reader that fails makes a warning, never a
 * failed update: the gate itself has already passed.
 */
export function gateReport(jobs: readonly GateJob[], read: JobOutputReader): pulumi.Output<Record<string, string>> {
  const entries = jobs.map(({ namespace, name, resource }) =>
    resource.status.apply(async (status): Promise<[string, string]> => {
      if ((status?.succeeded ?? 0) < 1) {
        return [name, 'not passed'];
      }
      let text: string;
      try {
        text = (await read(namespace, name)).trim();
      } catch (error) {
        const hint = `kubectl -n ${namespace} logs job/${name}`;
        void pulumi.log.warn(`${name} passed; its output could not be read (${(error as Error).message}); see \`${hint}\``, resource);
        return [name, `passed (output: ${hint})`];
      }
      const report = text === '' ? 'passed (no output)' : text;
      void pulumi.log.info(`${name}: ${report}`, resource);
      return [name, report];
    }),
  );
  return pulumi.all(entries).apply((pairs) => Object.fromEntries(pairs));
}
