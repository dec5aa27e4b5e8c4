// One release over two regions: two local control planes side by side (the default cluster and a second one,
// `cutover-eu`, simulated nodes only), one stack each, driven by `npm run release` (Automation API). The gates run
// as Jobs that kwok completes; an image tagged `*-fail` fails (scripts/cluster.d/stages.yaml).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeClient, ProjectStacks, ROOT, localStackConfig, runCommand, secondClusterDown, secondClusterUp } from '../../scripts/local';
import { ALL_CRD_PATHS } from '../crd-schema';
import { deleteNamespace, expectSucceeded, readyCluster, waitFor } from './helpers';

const NAMESPACE = 'web-release';
const STACKS = ['e2e-release-us', 'e2e-release-eu'] as const;
const GATE_IMAGE = 'registry.example.com/acme/smoke:1.0.0';

let stacks: ProjectStacks;
const kubeconfigs: Record<string, string> = {};

const stackFile = (stack: string): string => stacks.file(stack);

function readConfig(stack: string): Record<string, unknown> {
  return (parse(readFileSync(stackFile(stack), 'utf8')) as { config: Record<string, unknown> }).config;
}

/** Edits a stack file as a person would before a release. */
function editConfig(stack: string, edit: (config: Record<string, unknown>) => void): void {
  const document = parse(readFileSync(stackFile(stack), 'utf8')) as { config: Record<string, unknown> };
  edit(document.config);
  writeFileSync(stackFile(stack), stringify(document));
}

function release(args: readonly string[]): ReturnType<typeof runCommand> {
  return runCommand('npm', ['run', '--silent', 'release', '--', ...args], stacks.env);
}

async function serving(stack: string): Promise<string> {
  const result = await stacks.pulumi(stack, ['stack', 'output', 'activeColor']);
  expectSucceeded(result);
  return result.stdout.trim();
}

/** What the live Service selects in the stack's own cluster: where traffic goes. */
async function liveColor(stack: string): Promise<string | undefined> {
  const service = await new KubeClient(kubeconfigs[stack]).get<{ spec?: { selector?: Record<string, string> } }>(
    `/api/v1/namespaces/${NAMESPACE}/services/web`,
  );
  return service?.spec?.selector?.['cutover.dev/color'];
}

async function tag(stack: string): Promise<string> {
  const result = await stacks.pulumi(stack, ['stack', 'tag', 'get', 'cutover:release']);
  return result.code === 0 ? result.stdout.trim() : '';
}

beforeAll(async () => {
  const first = readyCluster();
  kubeconfigs[STACKS[0]] = first.kubeconfig;
  kubeconfigs[STACKS[1]] = secondClusterUp(first.env, ALL_CRD_PATHS);
  stacks = new ProjectStacks(first.env, STACKS);
  for (const stack of STACKS) {
    deleteNamespace(stacks.env, kubeconfigs[stack], NAMESPACE);
    await stacks.init(stack, {
      ...localStackConfig(NAMESPACE, {
        'cutover:deployTimeoutSeconds': 60,
        'cutover:drainSeconds': 1,
        'cutover:shutdownSeconds': 2,
        'cutover:gate': { image: GATE_IMAGE, checks: [{ path: '/', expectStatus: 200 }] },
      }),
      // Each region is its own cluster.
      'kubernetes:kubeconfig': kubeconfigs[stack],
    });
    expectSucceeded(await stacks.pulumi(stack, ['up', '--yes', '--skip-preview']));
  }
});

afterAll(async () => {
  if (stacks !== undefined) {
    await stacks.remove();
    secondClusterDown(stacks.env);
  }
});

describe('npm run release over two regions', () => {
  it('1. refuses, changing nothing, when the stacks disagree on the image or one is locked', async () => {
    editConfig(STACKS[1], (config) => {
      config['cutover:green'] = { image: 'registry.example.com/acme/web:1.1.1' };
    });
    const disagree = await release(['--to', 'green', '--stacks', STACKS.join(',')]);
    expect(disagree.code, disagree.stdout).toBe(1);
    expect(disagree.stderr).toContain(
      `web: the stacks disagree on the green image (${STACKS[0]}: registry.example.com/acme/web:1.1.0; ${STACKS[1]}: ` +
        `registry.example.com/acme/web:1.1.1)`,
    );
    editConfig(STACKS[1], (config) => {
      config['cutover:green'] = { image: 'registry.example.com/acme/web:1.1.0' };
    });

    // A lock file as a running `pulumi up` holds it (file:// backend).
    const lockDir = join(stacks.backendDir, '.pulumi', 'locks', 'organization', 'cutover', STACKS[0]);
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(join(lockDir, 'held.json'), '{}');
    const locked = await release(['--to', 'green', '--stacks', STACKS.join(',')]);
    rmSync(lockDir, { recursive: true, force: true });
    expect(locked.code, locked.stdout).toBe(1);
    expect(locked.stderr).toContain(`${STACKS[0]}: is locked by a running update`);
    for (const stack of STACKS) {
      expect(readConfig(stack)['cutover:activeColor']).toBe('blue');
      expect(await liveColor(stack)).toBe('blue');
    }
  });

  it('2. switches both regions, canary first, changing one line of each stack file: its activeColor', async () => {
    // The verification between the waves sees the stacks switched so far.
    const verify = `test "$CUTOVER_RELEASE_STACKS" = ${STACKS[0]}`;
    const result = await release(['--to', 'green', '--stacks', STACKS.join(','), '--verify', verify, '--json']);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { stack: string; phase: string; detail?: string });
    const done = events.filter((event) => event.phase === 'done').map((event) => event.stack);
    expect(done).toEqual([...STACKS]);
    expect(events.map((event) => event.phase).filter((phase) => ['done', 'verify'].includes(phase))).toEqual(['done', 'verify', 'done']);
    expect(events.find((event) => event.stack === STACKS[0] && event.phase === 'config')?.detail).toBe(
      `Pulumi.${STACKS[0]}.yaml -cutover:activeColor: blue +cutover:activeColor: green`,
    );
    expect(events.filter((event) => event.phase === 'gates').map((event) => event.stack)).toEqual([...STACKS]);
    for (const stack of STACKS) {
      expect(readConfig(stack)['cutover:activeColor']).toBe('green');
      expect(await serving(stack)).toBe('green');
      expect(await liveColor(stack)).toBe('green');
      expect(await tag(stack)).toMatch(/^id=green-[0-9a-f]{10};to=green;state=done;at=/);
    }
  });

  it('3. a failing gate in the second region switches the first back; the output says what each serves', async () => {
    editConfig(STACKS[1], (config) => {
      config['cutover:gate'] = { image: `${GATE_IMAGE}-fail`, checks: [{ path: '/', expectStatus: 200 }] };
    });
    const result = await release(['--to', 'blue', '--stacks', STACKS.join(',')]);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(1);
    expect(output).toMatch(new RegExp(`${STACKS[0]} +done: serving blue`));
    expect(output).toMatch(new RegExp(`${STACKS[1]} +failed: `));
    expect(output).toMatch(new RegExp(`${STACKS[0]} +rolled back: serving green`));
    expect(output).toContain(`${STACKS[0]}: serving green (release blue-`);
    expect(output).toContain(`${STACKS[1]}: serving green (release blue-`);
    expect(output).not.toContain('the stacks serve different colors');
    for (const stack of STACKS) {
      expect(readConfig(stack)['cutover:activeColor']).toBe('green');
      expect(await liveColor(stack)).toBe('green');
    }
    editConfig(STACKS[1], (config) => {
      config['cutover:gate'] = { image: GATE_IMAGE, checks: [{ path: '/', expectStatus: 200 }] };
    });
  });

  it('4. a release killed between its waves: status says the regions differ; the same release run again finishes it', async () => {
    const args = ['run', '--silent', 'release', '--', '--to', 'blue', '--stacks', STACKS.join(','), '--pause', '600'];
    const child = spawn('npm', args, { cwd: ROOT, env: stacks.env, detached: true, stdio: 'ignore' });
    try {
      await waitFor(`${STACKS[0]} to be recorded as switched`, async () => (await tag(STACKS[0])).includes('state=switched'), 300);
    } finally {
      process.kill(-(child.pid as number), 'SIGTERM');
    }
    const status = await release(['status', '--stacks', STACKS.join(',')]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${STACKS[0]}: serving blue (release blue-`);
    expect(status.stdout).toContain(`${STACKS[1]}: serving green`);
    expect(status.stdout).toContain(
      `the stacks serve different colors: ${STACKS[0]}=blue ${STACKS[1]}=green; re-run the release to finish it, or run it with --rollback`,
    );

    const resumed = await release(['--to', 'blue', '--stacks', STACKS.join(',')]);
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`${STACKS[0]} +skipped: already serving blue`));
    expect(resumed.stdout).toMatch(new RegExp(`${STACKS[1]} +done: serving blue`));
    for (const stack of STACKS) {
      expect(await liveColor(stack)).toBe('blue');
      expect(readConfig(stack)['cutover:activeColor']).toBe('blue');
    }
  });

  it('5. --rollback undoes the finished release: both regions back on their previous color, in reverse order', async () => {
    const result = await release(['--to', 'blue', '--stacks', STACKS.join(','), '--rollback']);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    const at = (stack: string): number => output.search(new RegExp(`${stack} +rolled back: serving green`));
    expect(at(STACKS[1])).toBeGreaterThan(-1);
    expect(at(STACKS[0])).toBeGreaterThan(at(STACKS[1]));
    for (const stack of STACKS) {
      expect(await liveColor(stack)).toBe('green');
      expect(readConfig(stack)['cutover:activeColor']).toBe('green');
      expect(await tag(stack)).toMatch(/;to=blue;state=rolled-back;/);
    }
  });
});
