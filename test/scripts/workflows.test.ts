import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly needs?: string | string[];
  readonly environment?: string;
  readonly concurrency?: { group: string; 'cancel-in-progress': boolean };
  readonly strategy?: { matrix: { stack: string[] } };
  readonly steps: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions: Record<string, string>;
  readonly env: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

function workflow(name: string): Workflow {
  return parse(readFileSync(join(ROOT, '.github', 'workflows', name), 'utf8')) as Workflow;
}

const pulumiSteps = (job: Job): Step[] => job.steps.filter((step) => step.uses?.startsWith('pulumi/actions@'));
const pinnedPulumi = /^PULUMI_VERSION=(\S+)$/m.exec(readFileSync(join(ROOT, 'scripts', 'toolchain.d', 'versions'), 'utf8'))?.[1];

describe('GitHub Actions workflows', () => {
  it('previews both stacks on a pull request, after the tests, with the diff and the policy pack, commented on the PR', () => {
    const preview = workflow('preview.yml');
    expect(Object.keys(preview.on)).toEqual(['pull_request']);
    expect(preview.jobs.preview.needs).toBe('test');
    expect(preview.jobs.test.steps.map((s) => s.run).filter(Boolean)).toEqual(['npm test']);
    expect(preview.jobs.preview.strategy?.matrix.stack).toEqual(['staging', 'prod']);
    const [step] = pulumiSteps(preview.jobs.preview);
    expect(step.with).toMatchObject({
      command: 'preview',
      'stack-name': '${{ matrix.stack }}',
      diff: true,
      policyPacks: 'policy',
      'comment-on-pr': true,
    });
    expect(preview.jobs.preview.steps.some((s) => s.run?.includes('npm run --silent plan -- --stack'))).toBe(true);
    expect(preview.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
  });

  it('deploys staging on merge to main, then prod in the protected production environment, one update per stack at a time', () => {
    const deploy = workflow('deploy.yml');
    expect(deploy.on).toEqual({ push: { branches: ['main'] } });
    expect(deploy.jobs.staging).toMatchObject({
      needs: 'test',
      environment: 'staging',
      concurrency: { group: 'pulumi-staging', 'cancel-in-progress': false },
    });
    expect(deploy.jobs.prod).toMatchObject({
      needs: 'staging',
      environment: 'production',
      concurrency: { group: 'pulumi-prod', 'cancel-in-progress': false },
    });
    expect(pulumiSteps(deploy.jobs.staging)[0].with).toMatchObject({ command: 'up', 'stack-name': 'staging', policyPacks: 'policy' });
    expect(pulumiSteps(deploy.jobs.prod)[0].with).toMatchObject({ command: 'up', 'stack-name': 'prod', policyPacks: 'policy' });
    expect(deploy.permissions).toEqual({ contents: 'read' });
  });

  it('checks both stacks for drift daily and fails on any difference', () => {
    const drift = workflow('drift.yml');
    expect(Object.keys(drift.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(pulumiSteps(drift.jobs.drift)[0].with).toMatchObject({ command: 'preview', refresh: true, 'expect-no-changes': true });
  });

  it('releases the regional stacks together, after the tests, in the protected production environment, one at a time with prod', () => {
    const release = workflow('release.yml');
    expect(release.on).toMatchObject({ push: { branches: ['main'], paths: ['Pulumi.prod-*.yaml'] } });
    expect(Object.keys(release.on).sort()).toEqual(['push', 'workflow_dispatch']);
    expect(release.jobs.release).toMatchObject({
      needs: 'test',
      environment: 'production',
      concurrency: { group: 'pulumi-prod', 'cancel-in-progress': false },
    });
    expect(release.jobs.test.steps.map((s) => s.run).filter(Boolean)).toEqual(['npm test']);
    // The CLI only: the release drives the stacks itself, through the Automation API.
    expect(pulumiSteps(release.jobs.release)[0].with?.command).toBeUndefined();
    expect(release.jobs.release.steps.some((s) => s.run?.startsWith('npm run --silent release -- --stacks "$STACKS"'))).toBe(true);
    expect(release.permissions).toEqual({ contents: 'read' });
  });

  it('takes state and secrets from configuration, never from the repository, and runs the pinned CLI', () => {
    expect(pinnedPulumi).toMatch(/^\d+\.\d+\.\d+$/);
    for (const name of ['preview.yml', 'deploy.yml', 'drift.yml', 'release.yml']) {
      const flow = workflow(name);
      expect(flow.env).toEqual({
        PULUMI_BACKEND_URL: '${{ vars.PULUMI_BACKEND_URL }}',
        PULUMI_CONFIG_PASSPHRASE: '${{ secrets.PULUMI_CONFIG_PASSPHRASE }}',
      });
      for (const job of Object.values(flow.jobs)) {
        for (const step of pulumiSteps(job)) {
          expect(step.with?.['cloud-url'], name).toBe('${{ vars.PULUMI_BACKEND_URL }}');
          expect(step.with?.['pulumi-version'], name).toBe(pinnedPulumi);
        }
        for (const step of job.steps.filter((s) => s.with?.kubeconfig !== undefined)) {
          expect(String(step.with?.kubeconfig), name).toMatch(/^\$\{\{ .*secrets\.KUBECONFIG\w* \}\}$/);
        }
      }
    }
  });
});
