// `npm run bench:release`: what a release across two regions costs against switching the two stacks one by one, in
// one run. Two local control planes (the default cluster and `cutover-eu`, simulated nodes), one stack each. Each
// round: a single-stack cutover of each stack (`pulumi config set activeColor` + `pulumi up`, timed apart), then one
// `npm run release` of both back (previews of both, the canary wave, the second wave, the records). Medians over
// BENCH_ROUNDS rounds, reported as the ratio of the release to the sum of the two cutovers measured in the same run.
// Writes bench/results/release.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CRD_PATHS } from '../test/crd-schema';
import {
  CommandResult,
  ProjectStacks,
  ROOT,
  clusterUp,
  installCrds,
  localStackConfig,
  runCommand,
  secondClusterDown,
  secondClusterUp,
  toolchainEnv,
} from '../scripts/local';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAMESPACE = 'web-bench-release';
const STACKS = ['e2e-bench-us', 'e2e-bench-eu'] as const;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function ok(result: ReturnType<typeof runCommand>, what: string): Promise<number> {
  return (await completed(result, what)).seconds;
}

async function completed(result: ReturnType<typeof runCommand>, what: string): Promise<CommandResult> {
  const done = await result;
  if (done.code !== 0) {
    throw new Error(`${what} failed:\n${done.stdout}\n${done.stderr}`);
  }
  return done;
}

/** Where a release's time went, from its `--json` events: until it started switching, each wave, the rest. */
interface ReleaseSplit {
  readonly checks: number;
  readonly waves: number[];
  readonly after: number;
}

function split(result: CommandResult): ReleaseSplit {
  const events = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { stack: string; phase: string; elapsedSeconds: number });
  const at = (stack: string, phase: string): number =>
    events.find((event) => event.stack === stack && event.phase === phase)?.elapsedSeconds ?? Number.NaN;
  const start = at('release', 'start');
  const waveEnds = STACKS.map((stack) => at(stack, 'done'));
  return {
    checks: start,
    waves: waveEnds.map((end, index) => end - (index === 0 ? start : waveEnds[index - 1])),
    after: result.seconds - waveEnds[waveEnds.length - 1],
  };
}

async function main(): Promise<void> {
  const env = toolchainEnv();
  const first = clusterUp(env);
  installCrds(env, first, ALL_CRD_PATHS);
  const kubeconfigs = [first, secondClusterUp(env, ALL_CRD_PATHS)];
  const stacks = new ProjectStacks(env, STACKS);
  try {
    for (const [index, name] of STACKS.entries()) {
      await stacks.init(name, {
        ...localStackConfig(NAMESPACE, {
          'cutover:drainSeconds': 1,
          'cutover:shutdownSeconds': 2,
          'cutover:gate': { image: 'registry.example.com/acme/smoke:1.0.0', checks: [{ path: '/' }] },
        }),
        'kubernetes:kubeconfig': kubeconfigs[index],
      });
      await ok(stacks.pulumi(name, ['up', '--yes', '--skip-preview']), `first pulumi up of ${name}`);
    }
    const singles: number[][] = [[], []];
    const releases: number[] = [];
    const splits: ReleaseSplit[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const to = round % 2 === 1 ? 'green' : 'blue';
      const back = to === 'green' ? 'blue' : 'green';
      for (const [index, name] of STACKS.entries()) {
        const set = await ok(stacks.pulumi(name, ['config', 'set', 'activeColor', to]), `pulumi config set on ${name}`);
        const up = await ok(stacks.pulumi(name, ['up', '--yes', '--skip-preview']), `cutover of ${name}`);
        singles[index].push(set + up);
      }
      const released = await completed(
        runCommand('npm', ['run', '--silent', 'release', '--', '--to', back, '--stacks', STACKS.join(','), '--json'], stacks.env),
        `release to ${back}`,
      );
      releases.push(released.seconds);
      splits.push(split(released));
      console.log(
        `round ${round}: ${STACKS[0]} ${singles[0].at(-1)?.toFixed(2)} s, ${STACKS[1]} ${singles[1].at(-1)?.toFixed(2)} s, release ` +
          `${releases.at(-1)?.toFixed(2)} s`,
      );
    }
    const sum = median(singles[0]) + median(singles[1]);
    const lines = [
      `release across two regions, ${ROUNDS} rounds (medians), simulated nodes, two local control planes`,
      '',
      `| what | seconds | ratio to the two cutovers |`,
      `| --- | --- | --- |`,
      `| cutover of ${STACKS[0]} (config set + pulumi up) | ${median(singles[0]).toFixed(2)} | ${(median(singles[0]) / sum).toFixed(2)} |`,
      `| cutover of ${STACKS[1]} (config set + pulumi up) | ${median(singles[1]).toFixed(2)} | ${(median(singles[1]) / sum).toFixed(2)} |`,
      `| both, one after the other (the baseline) | ${sum.toFixed(2)} | 1.00 |`,
      `| npm run release of both | ${median(releases).toFixed(2)} | ${(median(releases) / sum).toFixed(2)} |`,
      `| – of which: start, reads, locks, records and both previews, before anything changes | ` +
        `${median(splits.map((each) => each.checks)).toFixed(2)} | ${(median(splits.map((each) => each.checks)) / sum).toFixed(2)} |`,
      ...STACKS.map((stack, index) => {
        const wave = median(splits.map((each) => each.waves[index]));
        const share = (wave / sum).toFixed(2);
        return `| – of which: wave ${index + 1} (${stack}: record, stack file, pulumi up, record) | ${wave.toFixed(2)} | ${share} |`;
      }),
      `| – of which: the final records and the summary | ${median(splits.map((each) => each.after)).toFixed(2)} | ` +
        `${(median(splits.map((each) => each.after)) / sum).toFixed(2)} |`,
    ];
    console.log(`\n${lines.join('\n')}`);
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'release.txt'), `${lines.join('\n')}\n`);
    console.log('\nwritten: bench/results/release.txt');
  } finally {
    await stacks.remove();
    secondClusterDown(env);
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
