// `npm run release -- [--to <color>] --stacks a,b[,c] [--canary a] [--pause <s>] [--verify <command>] [--rollback] [--json]`
// `npm run release -- status --stacks a,b [--json]`
//
// One release over several stacks (one per region), in waves, all or none, through Pulumi's Automation API. Before
// anything changes it previews the switch of every stack and refuses, naming the stack, when a preview fails or would
// change more than routing objects, the stacks disagree on the target image, or a stack is locked or has pending
// operations. Then it switches the canary wave, pauses and runs the verification, then the rest. When a stack fails,
// every stack the release switched goes back to its previous color, in reverse order. Each stack's part is recorded
// in a stack tag (`cutover:release`, stacks/release.ts), so an interrupted run is resumed (or, with --rollback,
// undone) by running the same release again, and `status` shows it. Decisions: stacks/release.ts. Docs: docs/release.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EngineEvent, LocalWorkspace, Stack } from '@pulumi/pulumi/automation';
import { parseDocument } from 'yaml';
import { Color, isColor, otherColor } from '../lib';
import { CONFIG_NAMESPACE, parseStackConfig } from '../stacks/config';
import {
  PreviewStep,
  RELEASE_TAG,
  ReleaseRecord,
  ReleaseRequest,
  ReleaseState,
  StackSnapshot,
  formatRecord,
  parseRecord,
  planWaves,
  releaseId,
  releaseRefusals,
  rollbackOrder,
  rollbackTargets,
  servingSummary,
  stackActions,
  stepsOutside,
  switchObjects,
  targetFromFiles,
} from '../stacks/release';
import { synthesize } from '../stacks/synthesize';
import { ROOT } from './local';

const USAGE =
  'npm run release -- [--to <blue|green>] --stacks <a,b,...> [--canary <a,...>] [--pause <seconds>] [--verify <command>] [--rollback] [--json]\n' +
  '       npm run release -- status --stacks <a,b,...> [--json]';

/** Progress, for a person (one line per event) or a pipeline (`--json`: one JSON object per line). */
class Progress {
  private readonly started = Date.now();

  public constructor(private readonly json: boolean) {}

  public say(stack: string, phase: string, detail = ''): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    if (this.json) {
      console.log(JSON.stringify({ stack, phase, ...(detail !== '' ? { detail } : {}), elapsedSeconds: Number(seconds) }));
    } else {
      console.log(`[${`${seconds} s`.padStart(7)}] ${stack.padEnd(18)} ${phase}${detail !== '' ? `: ${detail}` : ''}`);
    }
  }
}

/** What a failed command said went wrong: its `error:` lines (once each), else its first lines. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split('\n').map((line) => line.trim().replace(/^(stderr|err\?): /, ''));
  const errors = [...new Set(lines.filter((line) => line.startsWith('error:')))];
  return (errors.length > 0 ? errors : lines.filter((line) => line !== '' && !/^(code|stdout):/.test(line))).slice(0, 4).join(' | ').slice(0, 600);
}

/** Whether an update holds the stack's lock: the lock files of a file:// backend; elsewhere an update in progress. */
async function isLocked(stack: Stack, backendUrl: string | undefined): Promise<boolean> {
  if (backendUrl?.startsWith('file://') === true) {
    const locks = join(fileURLToPath(backendUrl.replace(/^file:\/\/(~)/, `file://${process.env.HOME ?? ''}`)), '.pulumi', 'locks');
    // Project-scoped stacks (the layout of every new backend), then the legacy layout.
    return [join(locks, 'organization', CONFIG_NAMESPACE, stack.name), join(locks, stack.name)].some(
      (dir) => existsSync(dir) && readdirSync(dir).some((file) => file.endsWith('.json')),
    );
  }
  return (await stack.info())?.result === 'in-progress';
}

/** Raw config (`namespace:key` → string) as the program sees it. */
async function rawConfig(stack: Stack): Promise<Record<string, string>> {
  const all = await stack.getAllConfig();
  return Object.fromEntries(Object.entries(all).map(([key, value]) => [key, value.value]));
}

async function snapshot(
  workspace: LocalWorkspace,
  stack: Stack,
  to: Color,
  backendUrl: string | undefined,
): Promise<StackSnapshot & { raw: Record<string, string> }> {
  const [raw, exported, tags, locked] = await Promise.all([
    rawConfig(stack),
    stack.exportStack(),
    workspace.listTags(stack.name),
    isLocked(stack, backendUrl),
  ]);
  const config = parseStackConfig(raw, stack.name);
  const deployment = exported.deployment as
    { resources?: Array<{ type: string; outputs?: Record<string, unknown> }>; pending_operations?: unknown[] } | undefined;
  const deployed = deployment?.resources?.find((resource) => resource.type === 'pulumi:pulumi:Stack')?.outputs?.activeColor;
  const record = parseRecord(tags[RELEASE_TAG]);
  return {
    name: stack.name,
    raw,
    configColor: config.activeColor,
    ...(isColor(deployed) ? { deployedColor: deployed } : {}),
    locked,
    pendingOperations: (deployment?.pending_operations ?? []).length,
    targetImages: Object.fromEntries(config.apps.map((app) => [app.name, app[to].image])),
    ...(record !== undefined ? { record } : {}),
  };
}

/** The stack file with `activeColor` set to `to`, written to a private temporary file (the real one is not touched). */
function switchedConfigFile(stack: string, to: Color): { file: string; cleanup: () => void } {
  const document = parseDocument(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), 'utf8'));
  document.setIn(['config', 'cutover:activeColor'], to);
  const dir = mkdtempSync(join(tmpdir(), 'cutover-release-'));
  const file = join(dir, `Pulumi.${stack}.yaml`);
  writeFileSync(file, document.toString(), { mode: 0o600 });
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Previews the switch of one stack to `to`: the steps it plans, or why it failed. */
async function previewSwitch(stack: Stack, raw: Record<string, string>, to: Color): Promise<{ error?: string; outside: PreviewStep[] }> {
  const { file, cleanup } = switchedConfigFile(stack.name, to);
  const steps: PreviewStep[] = [];
  try {
    // Synthesized so that a bad config fails here, before any preview: the stack as it is, and the switch as the update would make it.
    const before = synthesize(raw, stack.name);
    const after = synthesize({ ...raw, 'cutover:activeColor': to }, stack.name, { activeColor: before.config.activeColor });
    const allowed = switchObjects(before.platform, after.platform);
    await stack.preview({
      configFile: file,
      onEvent: (event: EngineEvent) => {
        const step = event.resourcePreEvent?.metadata;
        if (step !== undefined) {
          steps.push({ op: step.op, type: step.type, name: step.urn.split('::').at(-1) ?? '' });
        }
      },
    });
    return { outside: stepsOutside(steps, allowed) };
  } catch (error) {
    return { error: reason(error), outside: [] };
  } finally {
    cleanup();
  }
}

/**
 * Sets `activeColor` in the stack file, as `pulumi config set activeColor <color>` would, but as a one-line change:
 * the CLI re-serialises the whole file (every number and boolean becomes a quoted string), which would bury the
 * switch in a noisy diff. The update that follows reports the color it made live (its `activeColor` output), which
 * is how the release knows the file said what it wrote. Prints the change.
 */
function setColor(stack: Stack, color: Color, progress: Progress): void {
  const path = join(ROOT, `Pulumi.${stack.name}.yaml`);
  const text = readFileSync(path, 'utf8');
  const document = parseDocument(text);
  const before = document.getIn(['config', 'cutover:activeColor']);
  document.setIn(['config', 'cutover:activeColor'], color);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, document.toString());
  renameSync(partial, path);
  if (before !== color) {
    progress.say(stack.name, 'config', `Pulumi.${stack.name}.yaml -cutover:activeColor: ${String(before)} +cutover:activeColor: ${color}`);
  }
}

/** `pulumi up` of one stack, reporting when its gates run; resolves with the color it serves afterwards (its output). */
async function up(stack: Stack, progress: Progress): Promise<Color | undefined> {
  let gatesSeen = false;
  const result = await stack.up({
    onEvent: (event: EngineEvent) => {
      const step = event.resourcePreEvent?.metadata;
      if (!gatesSeen && step !== undefined && step.type === 'kubernetes:batch/v1:Job' && step.op !== 'same' && /-gate-(blue|green)$/.test(step.urn)) {
        gatesSeen = true;
        progress.say(stack.name, 'gates', 'the smoke-test (and metric) gates run before traffic moves');
      }
    },
  });
  const serving = result.outputs.activeColor?.value as unknown;
  return isColor(serving) ? serving : undefined;
}

async function serving(stack: Stack): Promise<Color | undefined> {
  const value = (await stack.outputs()).activeColor?.value as unknown;
  return isColor(value) ? value : undefined;
}

function runVerify(command: string, wave: number, switched: readonly string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CUTOVER_RELEASE_WAVE: String(wave), CUTOVER_RELEASE_STACKS: switched.join(',') },
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

async function main(argv: readonly string[]): Promise<number> {
  const status = argv[0] === 'status';
  const { values } = parseArgs({
    args: status ? argv.slice(1) : [...argv],
    options: {
      to: { type: 'string' },
      stacks: { type: 'string' },
      canary: { type: 'string' },
      pause: { type: 'string' },
      verify: { type: 'string' },
      rollback: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const progress = new Progress(values.json === true);
  const stacks = splitList(values.stacks);
  if (stacks.length === 0) {
    throw new UsageError('--stacks: is required, got none; e.g. --stacks prod-us-east,prod-eu-west');
  }
  if (values.to !== undefined && !isColor(values.to)) {
    throw new UsageError(`--to: must be blue or green, got ${JSON.stringify(values.to)}`);
  }
  const pauseSeconds = values.pause !== undefined ? Number(values.pause) : 0;
  if (!Number.isFinite(pauseSeconds) || pauseSeconds < 0) {
    throw new UsageError(`--pause: must be a number of seconds, got "${values.pause}"`);
  }
  const workspace = await LocalWorkspace.create({ workDir: ROOT });
  const selected = await Promise.all(
    stacks.map((name) =>
      Stack.select(name, workspace).catch((error: unknown) => {
        throw new Error(`${name}: cannot be selected: ${reason(error)}; check the stack name and PULUMI_BACKEND_URL (\`pulumi stack ls\`)`);
      }),
    ),
  );
  const backendUrl = process.env.PULUMI_BACKEND_URL ?? (await workspace.whoAmI()).url;

  if (status) {
    const rows = await Promise.all(
      selected.map(async (stack) => ({
        name: stack.name,
        serving: await serving(stack),
        record: parseRecord((await workspace.listTags(stack.name))[RELEASE_TAG]),
        configColor: (await stack.getConfig('cutover:activeColor')).value,
      })),
    );
    if (values.json === true) {
      console.log(JSON.stringify({ stacks: rows, agree: new Set(rows.map((row) => row.serving)).size === 1 }, null, 2));
    } else {
      rows.forEach((row) => console.log(`${row.name}: activeColor ${row.configColor} in the stack file`));
      servingSummary(rows).forEach((line) => console.log(line));
    }
    return 0;
  }

  const target: Color =
    values.to ??
    targetFromFiles(
      await Promise.all(
        selected.map(async (stack) => ({ name: stack.name, configColor: (await stack.getConfig('cutover:activeColor')).value as Color })),
      ),
    );
  const request: ReleaseRequest = { to: target, stacks, canary: splitList(values.canary) };
  const to = request.to;
  const from = otherColor(to);
  const waves = planWaves(request);
  const id = releaseId(request);
  const byName = new Map(selected.map((stack) => [stack.name, stack]));
  // Everything is read and previewed before anything changes.
  selected.forEach((stack) => progress.say(stack.name, 'previewing', `the switch to ${to}`));
  const snapshots = await Promise.all(selected.map((stack) => snapshot(workspace, stack, to, backendUrl)));
  // What each stack serves (its last completed update's output) and its record, kept as the release changes them.
  const servingNow = new Map(snapshots.map((stack) => [stack.name, stack.deployedColor]));
  const records = new Map(snapshots.map((stack) => [stack.name, stack.record]));
  const record = async (name: string, state: ReleaseState): Promise<void> => {
    const value: ReleaseRecord = { id, to, state, at: new Date().toISOString() };
    await workspace.setTag(name, RELEASE_TAG, formatRecord(value));
    records.set(name, value);
  };
  const switchTo = async (stack: Stack, color: Color): Promise<Color | undefined> => {
    setColor(stack, color, progress);
    try {
      servingNow.set(stack.name, await up(stack, progress));
    } catch (error) {
      // A failed update records no output: what the stack serves is what its last completed update left.
      servingNow.set(stack.name, await serving(stack).catch(() => servingNow.get(stack.name)));
      throw error;
    }
    return servingNow.get(stack.name);
  };

  /** Switches `names` back to `from`, in reverse order; resolves with whether every one of them went back. */
  const switchBack = async (names: readonly string[]): Promise<boolean> => {
    let all = true;
    for (const name of rollbackOrder(names)) {
      const stack = byName.get(name) as Stack;
      progress.say(name, 'rolling back', `to ${from}`);
      await record(name, 'rolling-back');
      try {
        const now = await switchTo(stack, from);
        await record(name, 'rolled-back');
        progress.say(name, 'rolled back', `serving ${now ?? 'nothing'}`);
      } catch (error) {
        all = false;
        progress.say(name, 'rollback failed', `${reason(error)}; run \`pulumi up --stack ${name}\` once the cause is fixed`);
      }
    }
    return all;
  };
  const summary = (): void => {
    const rows = stacks.map((name) => ({ name, serving: servingNow.get(name), record: records.get(name) }));
    servingSummary(rows).forEach((line) => progress.say('release', 'summary', line));
  };

  if (values.rollback === true) {
    const mine = rollbackTargets(request, snapshots);
    progress.say('release', 'rollback', mine.length > 0 ? `${id}: ${mine.join(', ')} back to ${from}` : `${id}: no stack to roll back`);
    const back = await switchBack(mine);
    summary();
    return back ? 0 : 1;
  }

  const actions = stackActions(request, snapshots);
  const previews = new Map(
    await Promise.all(
      snapshots
        .filter((stack) => actions.get(stack.name) === 'switch')
        .map(async (stack) => [stack.name, await previewSwitch(byName.get(stack.name) as Stack, stack.raw, to)] as const),
    ),
  );
  const refusals = releaseRefusals(request, snapshots, previews);
  if (refusals.length > 0) {
    console.error(`release ${id} to ${to} refused; nothing was changed:\n${refusals.map((line) => `  ${line}`).join('\n')}`);
    return 1;
  }
  progress.say('release', 'start', `${id}: ${waves.map((wave, index) => `wave ${index + 1}: ${wave.join(', ')}`).join('; ')}`);

  const switched: string[] = snapshots
    .filter((stack) => stack.record?.id === id && ['switched', 'done'].includes(stack.record.state))
    .map((stack) => stack.name);
  for (const [index, wave] of waves.entries()) {
    const failures: string[] = [];
    await Promise.all(
      wave.map(async (name) => {
        const stack = byName.get(name) as Stack;
        if (actions.get(name) === 'skip') {
          const current = snapshots.find((each) => each.name === name)?.record;
          if (current?.id !== id) {
            await record(name, 'unchanged');
          }
          progress.say(name, 'skipped', `already serving ${to}`);
          return;
        }
        progress.say(name, 'switching', `to ${to}`);
        await record(name, 'switching');
        try {
          const now = await switchTo(stack, to);
          switched.push(name);
          await record(name, 'switched');
          progress.say(name, 'done', `serving ${now ?? 'nothing'}`);
        } catch (error) {
          failures.push(name);
          await record(name, 'failed');
          progress.say(name, 'failed', reason(error));
        }
      }),
    );
    let failed = failures.length > 0;
    if (!failed && index < waves.length - 1) {
      if (pauseSeconds > 0) {
        progress.say('release', 'pause', `${pauseSeconds} s before wave ${index + 2}`);
        await new Promise((resolve) => setTimeout(resolve, pauseSeconds * 1000));
      }
      if (values.verify !== undefined) {
        progress.say('release', 'verify', values.verify);
        const code = await runVerify(values.verify, index + 1, switched);
        if (code !== 0) {
          progress.say('release', 'verify failed', `exit ${code}`);
          failed = true;
        }
      }
    }
    if (failed) {
      // The failed stacks too: their stack file says `to`, and an update that failed may have moved some traffic.
      await switchBack([...switched, ...failures]);
      summary();
      return 1;
    }
  }
  await Promise.all(stacks.map((name) => record(name, 'done')));
  summary();
  return 0;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    console.error(`${(error as Error).message}${usage ? `\nusage: ${USAGE}` : ''}`);
    process.exitCode = 2;
  },
);
