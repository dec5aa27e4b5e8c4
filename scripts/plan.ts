// `npm run plan -- --stack <name> [--config key=value ...]`: what a reviewer reads first. Which color is
// live, each color's image and size, and what flipping `activeColor` would change, rendered offline
// with the same code as `npm run synth` and `pulumi up`.
import { resolve } from 'node:path';
import { formatPlan, planStack } from '../stacks/plan';
import { applyOverrides, readStackFile } from '../stacks/stack-file';
import { parseStackArgs } from './cli';

const USAGE = 'npm run plan -- --stack <staging|prod> [--config key=value ...]';

try {
  const { stack, overrides } = parseStackArgs(process.argv.slice(2), USAGE, { out: false });
  const raw = applyOverrides(readStackFile(resolve(__dirname, '..'), stack), overrides);
  process.stdout.write(formatPlan(planStack(raw, stack)));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
