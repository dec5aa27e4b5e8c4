import { execFile } from 'node:child_process';
import * as pulumi from '@pulumi/pulumi';

/**
 * Reads what the pods of a finished Job printed: their termination messages (the gate scripts copy their output there,
 * see `reportingScript` in lib/migration-job.ts). Rejects when the cluster cannot be asked.
 */
export type JobOutputReader = (namespace: string, job: string) => Promise<string>;

/**
 * A {@link JobOutputReader} that asks the cluster with `kubectl` (read-only: `get pods`), using the same kubeconfig as
 * the Kubernetes provider (`KUBECONFIG`, or `~/.kube/config`) and `context` when the stack sets `kubernetes:context`.
 */
export function kubectlJobOutput(context?: string): JobOutputReader {
  return (namespace, job) =>
    new Promise((resolve, reject) => {
      const args = [
        ...(context !== undefined ? ['--context', context] : []),
        '--namespace',
        namespace,
        'get',
        'pods',
        '--selector',
        `job-name=${job}`,
        '--output',
        'jsonpath={range .items[*]}{.status.containerStatuses[0].state.terminated.message}{end}',
      ];
      execFile('kubectl', args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) =>
        error !== null ? reject(new Error(`kubectl ${args.join(' ')}: ${(stderr || error.message).trim()}`)) : resolve(stdout),
      );
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
        pulumi.log.warn(`${name} passed; its output could not be read (${(error as Error).message}); see \`${hint}\``, resource);
        return [name, `passed (output: ${hint})`];
      }
      const report = text === '' ? 'passed (no output)' : text;
      pulumi.log.info(`${name}: ${report}`, resource);
      return [name, report];
    }),
  );
  return pulumi.all(entries).apply((pairs) => Object.fromEntries(pairs));
}
