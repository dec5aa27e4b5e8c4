import { execFile } from 'node:child_process';
import { kubectlClusterArgs, ProviderCluster } from './gate-report';
import type { AccessQuery, ClusterProbe, FoundDeployment, ServedResource } from './preflight';

/** Runs kubectl against `cluster`; resolves with its output, rejects with its error output. */
function kubectl(cluster: ProviderCluster, args: readonly string[], input?: string): Promise<string> {
  const { args: clusterArgs, cleanup } = kubectlClusterArgs(cluster);
  const all = [...clusterArgs, ...args];
  return new Promise<string>((resolve, reject) => {
    // Bounded so that an unreachable cluster fails the preflight instead of hanging the update.
    const child = execFile('kubectl', all, { timeout: 60_000, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      cleanup();
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new Error('kubectl is not on the PATH (scripts/toolchain builds the pinned one)'));
      } else if (error) {
        // kubectl's own log header (`E1201 14:50:21.873850   29673 memcache.go:265] `) says nothing to the reader.
        const message = (stderr || error.message).replace(/^[EWI]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\] /gm, '').trim();
        reject(new Error(`kubectl ${args.join(' ')}: ${message}`));
      } else {
        resolve(stdout);
      }
    });
    if (input !== undefined) {
      child.stdin?.end(input);
    }
  });
}

/**
 * A {@link ClusterProbe} that asks with `kubectl`, through the kubeconfig and context the Kubernetes provider deploys
 * with. Existence is read through the server-side table view (`kubectl get` without `-o`), which carries each object's
 * metadata only: a Secret's data never leaves the API server.
 */
export function kubectlProbe(cluster: ProviderCluster = {}): ClusterProbe {
  return {
    async version() {
      const parsed = JSON.parse(await kubectl(cluster, ['version', '-o', 'json'])) as {
        serverVersion?: { major: string; minor: string; gitVersion: string };
      };
      const server = parsed.serverVersion;
      if (server === undefined) {
        throw new Error('kubectl version printed no server version');
      }
      // Managed clusters write e.g. minor "28+".
      return { major: Number.parseInt(server.major, 10), minor: Number.parseInt(server.minor, 10), gitVersion: server.gitVersion };
    },
    async resources() {
      const list = JSON.parse(await kubectl(cluster, ['api-resources', '-o', 'json'])) as { resources: Array<ServedResource & { group?: string }> };
      return list.resources.map((resource) => ({
        group: resource.group ?? '',
        version: resource.version,
        kind: resource.kind,
        name: resource.name,
        namespaced: resource.namespaced,
      }));
    },
    async existing(resource, namespace, names) {
      const output = await kubectl(cluster, [
        'get',
        resource,
        ...names,
        ...(namespace !== undefined ? ['-n', namespace] : []),
        '--ignore-not-found',
        '--no-headers',
      ]);
      return new Set(
        output
          .split('\n')
          .map((line) => line.trim().split(/\s+/)[0])
          .filter((name) => name !== ''),
      );
    },
    async deployments(selector) {
      const list = JSON.parse(await kubectl(cluster, ['get', 'deployments', '--all-namespaces', '-l', selector, '-o', 'json'])) as {
        items: Array<{ metadata: { namespace: string; name: string }; status?: { availableReplicas?: number } }>;
      };
      return list.items.map((item): FoundDeployment => ({
        namespace: item.metadata.namespace,
        name: item.metadata.name,
        availableReplicas: item.status?.availableReplicas ?? 0,
      }));
    },
    async allowed(queries: readonly AccessQuery[]) {
      if (queries.length === 0) {
        return [];
      }
      const reviews = {
        apiVersion: 'v1',
        kind: 'List',
        items: queries.map((query) => ({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: query },
        })),
      };
      // One kubectl for every question; it prints one line per review, in order.
      const output = await kubectl(cluster, ['create', '-f', '-', '-o', 'jsonpath={.status.allowed}{"\\n"}'], JSON.stringify(reviews));
      const answers = output.split('\n').filter((line) => line !== '');
      if (answers.length !== queries.length) {
        throw new Error(`SelfSubjectAccessReview: ${answers.length} answers to ${queries.length} questions`);
      }
      return answers.map((line) => line === 'true');
    },
  };
}
