// `npm run synth -- --stack <name> [--config key=value ...] [--out dir]`: renders every object the stack
// would deploy into dist/<stack>/, with no cluster and no Pulumi CLI.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { applyOverrides, readStackFile } from '../stacks/stack-file';
import { synthesize } from '../stacks/synthesize';
import { parseStackArgs } from './cli';

const USAGE = 'npm run synth -- --stack <staging|prod> [--config key=value ...] [--out dir]';

function main(argv: readonly string[]): number {
  const { stack, overrides, out } = parseStackArgs(argv, USAGE, { out: true });
  const projectDir = resolve(__dirname, '..');
  const raw = applyOverrides(readStackFile(projectDir, stack), overrides);
  // As after an update that did not switch colors (idleReplicas applied): synth knows no previous update.
  const { objects } = synthesize(raw, stack);

  // Everything is validated and rendered before the output directory is touched.
  const dir = resolve(out ?? join(projectDir, 'dist', stack));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  objects.forEach(({ manifest }, index) => {
    const file = `${String(index).padStart(2, '0')}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`;
    writeFileSync(join(dir, file), stringify(manifest, { lineWidth: 0 }));
  });
  console.log(`${stack}: wrote ${objects.length} objects to ${dir}`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
