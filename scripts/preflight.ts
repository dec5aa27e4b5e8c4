// `npm run preflight -- --stack <name> [--config-file <path>] [--config key=value ...] [--json]`: checks that the
// cluster holds everything the stack refers to and does not create (stacks/preflight.ts), with the same code the
// Pulumi program runs before it registers anything. Exit 0 when all is there, 1 when something is missing or could
// not be checked, 2 on a bad config or bad arguments.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { kubectlProbe } from '../stacks/cluster-probe';
import { PREFLIGHT_CHECKS, formatPreflight, preflightProblems, preflightRequirements, runPreflight } from '../stacks/preflight';
import { applyOverrides, readConfigFile, readStackFile } from '../stacks/stack-file';
import { synthesize } from '../stacks/synthesize';

const USAGE = 'npm run preflight -- --stack <name> [--config-file <path>] [--config key=value ...] [--json]';

/** A `kubernetes:*` value the CLI can use: plain text (a secret value is only readable through `pulumi config`). */
function plain(value: string | undefined): string | undefined {
  return value !== undefined && !value.startsWith('{"secure"') ? value : undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: 'string' },
        'config-file': { type: 'string' },
        config: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}; usage: ${USAGE}`);
    return 2;
  }
  if (values.stack === undefined) {
    console.error(`--stack: is required; usage: ${USAGE}`);
    return 2;
  }
  const stack = values.stack;
  let requirements;
  let raw: Record<string, string>;
  try {
    const file = values['config-file'];
    raw = applyOverrides(file !== undefined ? readConfigFile(resolve(file)) : readStackFile(resolve(__dirname, '..'), stack), values.config ?? []);
    const { config, objects } = synthesize(raw, stack);
    requirements = preflightRequirements(
      config,
      objects.map(({ manifest }) => manifest),
    );
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const probe = kubectlProbe({ kubeconfig: plain(raw['kubernetes:kubeconfig']), context: plain(raw['kubernetes:context']) });
  const results = await runPreflight(requirements, probe);
  const problems = preflightProblems(results);
  if (values.json === true) {
    console.log(
      JSON.stringify(
        { stack, ok: problems.length === 0, skipped: PREFLIGHT_CHECKS.filter((check) => !requirements.checks.includes(check)), results },
        null,
        2,
      ),
    );
  } else {
    console.log(formatPreflight(results));
    console.log(
      problems.length === 0
        ? `\n${stack}: preflight passed (${results.length} checks)`
        : `\n${stack}: ${problems.length} of ${results.length} checks failed; nothing was changed`,
    );
  }
  return problems.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 2;
  },
);
