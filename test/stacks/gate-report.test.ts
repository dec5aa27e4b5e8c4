import * as pulumi from '@pulumi/pulumi';
import { FakeCluster } from '../fake-cluster';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStackFile } from '../../stacks/stack-file';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { kubectlClusterArgs } from '../../stacks/gate-report';

// The `gates` stack output: what each gate Job printed once it passed, read back from the cluster. Under mocks, a Job
// "succeeds" unless its name says otherwise, and the reader stands in for kubectl.

const ROOT = `${__dirname}/../..`;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state:
          args.type === 'kubernetes:batch/v1:Job'
            ? { ...args.inputs, status: { succeeded: /api/.test(args.name) ? 0 : 1 } }
            : args.type === 'pulumi:pulumi:StackReference'
              ? { ...args.inputs, outputs: {} }
              : args.inputs,
      }),
      call: (args) => args.inputs,
    },
    'cutover',
    'prod',
    false,
    'organization',
  );
});

async function gates(raw: Record<string, string>, read: (namespace: string, job: string) => Promise<string>): Promise<Record<string, string>> {
  const { run } = await import('../../stacks/index');
  const { outputs } = await run(raw, 'prod', { jobOutputReader: read, probe: new FakeCluster() });
  return new Promise((resolve) => outputs.gates.apply(resolve));
}

describe('gates output', () => {
  const API = { host: 'api.example.com', blue: { image: 'registry.example.com/acme/api:2.0.0' } };
  const raw = {
    ...readStackFile(ROOT, 'prod'),
    'cutover:gate': JSON.stringify({ metrics: { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090' } }),
    'cutover:services': JSON.stringify({ api: API }),
  };

  it('shows what every passed gate printed, read from its namespace, and says which did not pass', async () => {
    const asked: string[] = [];
    const result = await gates(raw, (namespace, job) => {
      asked.push(`${namespace}/${job}`);
      return Promise.resolve(`gate passed: ${job}\n`);
    });
    expect(result).toEqual({
      'web-gate-blue': 'gate passed: web-gate-blue',
      'web-metric-gate-blue': 'gate passed: web-metric-gate-blue',
      'api-gate-blue': 'not passed',
      'api-metric-gate-blue': 'not passed',
    });
    expect(asked.sort()).toEqual(['web-prod/web-gate-blue', 'web-prod/web-metric-gate-blue']);
  });

  it('points at kubectl logs when the output cannot be read, without failing the update', async () => {
    const result = await gates(raw, () => Promise.reject(new Error('kubectl: not found')));
    expect(result['web-gate-blue']).toBe('passed (output: kubectl -n web-prod logs job/web-gate-blue)');
  });
});

describe('kubectlClusterArgs: the gates output reads the cluster the provider deploys to', () => {
  it('passes a kubeconfig path and the context as they are', () => {
    const { args, cleanup } = kubectlClusterArgs({ kubeconfig: '/etc/cutover/prod.kubeconfig', context: 'prod' });
    expect(args).toEqual(['--kubeconfig', '/etc/cutover/prod.kubeconfig', '--context', 'prod']);
    cleanup();
  });

  it('writes kubeconfig contents to a private file for the call, and removes it after', () => {
    const contents = 'apiVersion: v1\nkind: Config\nclusters: []\n';
    const { args, cleanup } = kubectlClusterArgs({ kubeconfig: contents });
    expect(args[0]).toBe('--kubeconfig');
    expect(readFileSync(args[1], 'utf8')).toBe(contents);
    expect(statSync(args[1]).mode & 0o777).toBe(0o600);
    cleanup();
    expect(existsSync(args[1])).toBe(false);
  });

  it('adds nothing without stack settings: kubectl then uses KUBECONFIG, like the provider', () => {
    expect(kubectlClusterArgs({}).args).toEqual([]);
  });
});
