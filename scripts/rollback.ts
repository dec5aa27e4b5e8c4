// `npm run rollback -- --stack <name> [--config-file <path>]`: the incident rollback. Moves traffic to the idle color
// of the stack's last completed update at once, when stacks/rollback.ts judges it safe (that color's Deployment runs
// the pod template the update left, rolled out, with every replica a ready endpoint of its own Service); then sets
// `activeColor` in the stack file and runs the normal `pulumi up` (the gate, the Services, the recorded state), so
// the stack file, the stack state and the cluster agree again. When it is not safe, it changes nothing and says why.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { LABEL_COLOR, LABEL_SERVICE_ROLE, otherColor } from '../lib';
import { kubectlClusterArgs } from '../stacks/gate-report';
import { AppFacts, judgeRollback } from '../stacks/rollback';
import { parsePreviousState } from '../stacks/transition';
import { ROOT, runCommand } from './local';

const USAGE = 'npm run rollback -- --stack <name> [--config-file <path>]';
/** The Deployment controller's count of pod templates rolled out: unchanged by scaling. */
const REVISION = 'deployment.kubernetes.io/revision';

/** Runs a command with the user's environment and captures its output; throws with its error output unless it exits 0. */
async function ok(command: string, args: readonly string[], input?: string): Promise<string> {
  const result = await runCommand(command, args, process.env as Record<string, string>, ROOT, input);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

/** Runs a command with its output on ours (the final `pulumi up`, which the user watches); resolves with its exit code. */
function inherit(command: string, args: readonly string[]): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolvePromise);
  });
}

interface StateResource {
  readonly type: string;
  readonly outputs?: {
    readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: Record<string, string> };
  } & Record<string, unknown>;
}

interface KubeItem {
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly generation?: number;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: { readonly replicas?: number; readonly selector?: Record<string, string> };
  readonly status?: { readonly observedGeneration?: number; readonly readyReplicas?: number; readonly updatedReplicas?: number };
  readonly endpoints?: ReadonlyArray<{ readonly conditions?: { readonly ready?: boolean } }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { stack: { type: 'string' }, 'config-file': { type: 'string' } },
    strict: true,
  });
  if (values.stack === undefined) {
    throw new Error(`--stack: is required; usage: ${USAGE}`);
  }
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(2)} s`;
  const stackArgs = ['--stack', values.stack];
  const configArgs = values['config-file'] !== undefined ? ['--config-file', values['config-file']] : [];

  // The stack's state (its outputs and each Deployment as the last update left it) and its config, at once.
  const [exported, configText] = await Promise.all([
    ok('pulumi', ['stack', 'export', ...stackArgs]),
    ok('pulumi', ['config', '--json', ...stackArgs, ...configArgs]),
  ]);
  const resources = (JSON.parse(exported) as { deployment?: { resources?: StateResource[] } }).deployment?.resources ?? [];
  const outputs = resources.find((resource) => resource.type === 'pulumi:pulumi:Stack')?.outputs ?? {};
  const config = JSON.parse(configText) as Record<string, { value?: string }>;
  const previous = parsePreviousState(outputs.cutoverState);
  const namespace = outputs.namespace as string | undefined;
  if (namespace === undefined || previous.activeColor === undefined) {
    throw new Error(
      `stack ${values.stack}: no completed update recorded its namespace and live color (outputs namespace, cutoverState); run \`pulumi up\` first`,
    );
  }
  const from = previous.activeColor;
  const to = otherColor(from);

  const cluster = kubectlClusterArgs({ kubeconfig: config['kubernetes:kubeconfig']?.value, context: config['kubernetes:context']?.value });
  try {
    const kubectl = [...cluster.args, '--namespace', namespace];
    const items = (JSON.parse(await ok('kubectl', [...kubectl, 'get', 'services,deployments,endpointslices', '-o', 'json'])) as { items: KubeItem[] })
      .items;
    const live = items.filter((item) => item.kind === 'Service' && item.metadata.labels?.[LABEL_SERVICE_ROLE] === 'live');
    const recorded = new Map(
      resources
        .filter((resource) => resource.type === 'kubernetes:apps/v1:Deployment' && resource.outputs?.metadata?.namespace === namespace)
        .map((resource) => [resource.outputs?.metadata?.name, resource.outputs?.metadata?.annotations?.[REVISION]]),
    );
    const apps: AppFacts[] = live.map((service) => {
      const app = service.metadata.name;
      const deployment = items.find((item) => item.kind === 'Deployment' && item.metadata.name === `${app}-${to}`);
      const readyEndpoints = items
        .filter((item) => item.kind === 'EndpointSlice' && item.metadata.labels?.['kubernetes.io/service-name'] === `${app}-${to}`)
        .flatMap((slice) => slice.endpoints ?? [])
        .filter((endpoint) => endpoint.conditions?.ready === true).length;
      return {
        app,
        liveColor: service.spec?.selector?.[LABEL_COLOR],
        ...(deployment !== undefined
          ? {
              deployment: {
                revision: deployment.metadata.annotations?.[REVISION],
                generation: deployment.metadata.generation ?? 0,
                observedGeneration: deployment.status?.observedGeneration,
                replicas: deployment.spec?.replicas ?? 0,
                readyReplicas: deployment.status?.readyReplicas,
                updatedReplicas: deployment.status?.updatedReplicas,
              },
            }
          : {}),
        recordedRevision: recorded.get(`${app}-${to}`),
        readyEndpoints,
      };
    });
    const problems = [
      ...(apps.length === 0 ? [`namespace ${namespace} has no live Service (label ${LABEL_SERVICE_ROLE}=live)`] : []),
      ...judgeRollback({
        previous,
        configuredColor: config['cutover:activeColor']?.value,
        trafficWeight: Number(config['cutover:trafficWeight']?.value ?? 0),
        apps,
      }).problems,
    ];
    if (problems.length > 0) {
      throw new Error(
        `rollback of stack ${values.stack} to ${to} refused, nothing changed:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
      );
    }

    // Every app's live and preview Service in one command: the apps move together, as in `pulumi up`. A Service's
    // selector is an atomic map for server-side apply: each patch carries the whole selector, only the color changed.
    const selector = (name: string, color: string) => {
      const current = items.find((item) => item.kind === 'Service' && item.metadata.name === name)?.spec?.selector;
      if (current === undefined || current[LABEL_COLOR] === undefined) {
        throw new Error(`Service ${namespace}/${name} has no ${LABEL_COLOR} selector; run \`pulumi up --refresh\` to reconcile first`);
      }
      return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { ...current, [LABEL_COLOR]: color } } };
    };
    const patch = { apiVersion: 'v1', kind: 'List', items: apps.flatMap(({ app }) => [selector(app, to), selector(`${app}-preview`, from)]) };
    await ok(
      'kubectl',
      [...kubectl, 'apply', '--server-side', '--force-conflicts', '--field-manager=cutover-rollback', '-f', '-'],
      JSON.stringify(patch),
    );
    console.log(
      `rollback: traffic of ${apps.map((a) => a.app).join(', ')} moved from ${from} to ${to} at ${elapsed()} (every replica of ${to} a ` +
        `ready endpoint)`,
    );
  } finally {
    cluster.cleanup();
  }

  // Now the stack file and the stack state: the normal update (gate, Services, recorded cutoverState).
  await ok('pulumi', ['config', 'set', 'activeColor', to, ...stackArgs, ...configArgs]);
  console.log(`rollback: activeColor set to ${to} in the stack's config; running pulumi up to record it`);
  const code = await inherit('pulumi', ['up', '--yes', '--skip-preview', ...stackArgs, ...configArgs]);
  if (code !== 0) {
    throw new Error(
      `rollback: traffic is on ${to}, which had every replica ready, but the update that records it failed (above). ` +
        `Fix what it names and run \`pulumi up\` again; to send traffic back to ${from}: \`pulumi config set activeColor ${from} && pulumi up\``,
    );
  }
  console.log(`rollback: done at ${elapsed()}; the stack file, its state and the cluster agree on ${to}`);
}

main().catch((error: Error) => {
  console.error(error.message.startsWith('rollback') ? error.message : `rollback: ${error.message}`);
  process.exitCode = 1;
});
