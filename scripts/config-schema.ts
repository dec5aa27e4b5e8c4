// Writes what the config schema (stacks/config/schema.ts) generates: Pulumi.yaml's scalar config schema and
// docs/config-reference.md. `npm run config:generate`; test/stacks/config.schema.test.ts fails when either is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReference, withPulumiConfigSection } from '../stacks/config/reference';

const root = join(__dirname, '..');
const pulumiYaml = join(root, 'Pulumi.yaml');
writeFileSync(pulumiYaml, withPulumiConfigSection(readFileSync(pulumiYaml, 'utf8')));
writeFileSync(join(root, 'docs', 'config-reference.md'), configReference());
console.log('wrote Pulumi.yaml (config:) and docs/config-reference.md');
