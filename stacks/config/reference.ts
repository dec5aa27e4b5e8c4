import { z } from 'zod';
import { CONFIG_NAMESPACE, UNDECLARED_DEFAULT_KEYS, defaultOf, stackConfigSchema } from './schema';

// What `npm run config:generate` writes from the schema: Pulumi.yaml's scalar config schema and docs/config-reference.md.
// Pure, so the staleness test compares the files with what it would write.

/** The line Pulumi.yaml's generated part starts at: everything from it to the end of the file is generated. */
export const PULUMI_CONFIG_MARKER = 'config:';

interface Meta {
  readonly description?: string;
  readonly defaultText?: string;
  readonly constructDefault?: unknown;
}

/** The description and default text of a field, wherever in its optional and default wrappers they were set. */
function metaOf(schema: z.ZodType): Meta {
  const own = (z.globalRegistry.get(schema) ?? {}) as Meta;
  const def = schema.def as { type: string; innerType?: z.ZodType };
  const inner = (def.type === 'optional' || def.type === 'default') && def.innerType !== undefined ? metaOf(def.innerType) : {};
  return { ...inner, ...own };
}

function unwrap(schema: z.ZodType): { inner: z.ZodType; optional: boolean } {
  const def = schema.def as { type: string; innerType?: z.ZodType };
  if ((def.type === 'optional' || def.type === 'default') && def.innerType !== undefined) {
    const inner = unwrap(def.innerType);
    return { inner: inner.inner, optional: true };
  }
  return { inner: schema, optional: false };
}

function enumName(values: readonly string[]): string {
  return values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
}

/** A field's type as the reference names it. */
function typeName(schema: z.ZodType): string {
  const { inner } = unwrap(schema);
  const def = inner.def as { type: string; element?: z.ZodType; valueType?: z.ZodType; entries?: Record<string, string> };
  switch (def.type) {
    case 'string':
      return 'string';
    case 'enum':
      return enumName(Object.values(def.entries ?? {}).map((value) => `\`${value}\``));
    case 'boolean':
      return 'boolean';
    case 'number':
      return (inner as z.ZodNumber).format === 'safeint' ? 'integer' : 'number';
    case 'record':
      return def.valueType !== undefined && unwrap(def.valueType).inner.def.type === 'object' ? 'map of objects' : 'map of strings';
    case 'array':
      return def.element !== undefined && unwrap(def.element).inner.def.type === 'object'
        ? 'list of objects'
        : `list of ${typeName(def.element as z.ZodType)}`;
    case 'object':
      return 'object';
    default:
      throw new Error(`config schema: no type name for a ${def.type} field`);
  }
}

/** Pulumi's type of a scalar top-level key, undefined for a structured one. */
function pulumiType(schema: z.ZodType): 'string' | 'integer' | 'boolean' | undefined {
  const type = typeName(schema);
  if (type === 'string' || type.startsWith('`')) return 'string';
  if (type === 'integer' || type === 'boolean') return type;
  return undefined;
}

function yamlScalar(text: string): string {
  return /: | #|^[-`'"&*!|>%@{}[\]#?,]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * Pulumi.yaml's `config:` section: the scalar keys that are required or have a literal default (Pulumi passes a
 * declared default to the program as a value, so computed defaults, optional keys without one and
 * {@link UNDECLARED_DEFAULT_KEYS} stay out).
 */
export function pulumiConfigSection(): string {
  const lines = [
    PULUMI_CONFIG_MARKER,
    '  # Generated from stacks/config/schema.ts by `npm run config:generate`: edit the schema, not this section.',
    '  # Only scalar keys that are required or have a literal default are declared here: structured keys, optional keys',
    "  # without a default (declaring one would make Pulumi require it), computed defaults and the Ingress router's keys",
    '  # (Pulumi passes a declared default as a value, and the gateway router refuses them when set) are in',
    '  # docs/config-reference.md. The program validates every key before registering any resource.',
  ];
  for (const [key, schema] of Object.entries(stackConfigSchema.shape)) {
    const type = pulumiType(schema);
    const { optional } = unwrap(schema);
    const value = defaultOf(schema);
    const undeclared = (UNDECLARED_DEFAULT_KEYS as readonly string[]).includes(key);
    if (type === undefined || undeclared || (optional && value === undefined)) {
      continue;
    }
    lines.push(`  ${key}:`, `    type: ${type}`);
    if (value !== undefined) {
      lines.push(`    default: ${typeof value === 'string' ? yamlScalar(value) : JSON.stringify(value)}`);
    }
    lines.push(`    description: ${yamlScalar(metaOf(schema).description ?? '')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Pulumi.yaml with its generated part replaced. */
export function withPulumiConfigSection(pulumiYaml: string): string {
  const start = pulumiYaml.indexOf(`\n${PULUMI_CONFIG_MARKER}\n`);
  if (start < 0) {
    throw new Error(`Pulumi.yaml: no top-level \`${PULUMI_CONFIG_MARKER}\` line, got none; add one where the config schema goes`);
  }
  return `${pulumiYaml.slice(0, start + 1)}${pulumiConfigSection()}`;
}

const REQUIRED = 'required';

function defaultCell(schema: z.ZodType): string {
  const value = defaultOf(schema);
  if (value !== undefined) {
    return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
  }
  const { constructDefault } = metaOf(schema);
  if (constructDefault !== undefined) {
    return `\`${typeof constructDefault === 'string' ? constructDefault : JSON.stringify(constructDefault)}\``;
  }
  const text = metaOf(schema).defaultText;
  if (text !== undefined) {
    return text;
  }
  return unwrap(schema).optional ? 'none' : REQUIRED;
}

/** `text` in lines of at most `width` characters, the lines after the first indented by `indent`. */
function wrap(text: string, indent: string, width = 120): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > width && line.trim() !== '') {
      lines.push(line);
      line = `${indent}${word}`;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** One entry per field, nested fields under their key; `item` marks a list's or map's items, which have no default. */
function entries(path: string, schema: z.ZodType, out: string[], item = false): void {
  const meta = metaOf(schema);
  const cell = defaultCell(schema);
  const facts = item ? typeName(schema) : cell === REQUIRED ? `${typeName(schema)}, required` : `${typeName(schema)}, default ${cell}`;
  out.push(...wrap(`- \`${path}\` (${facts}): ${meta.description ?? ''}`.trimEnd(), '  '));
  const { inner } = unwrap(schema);
  const def = inner.def as { type: string; element?: z.ZodType; valueType?: z.ZodType };
  if (def.type === 'object') {
    for (const [name, field] of Object.entries((inner as z.ZodObject).shape)) {
      entries(`${path}.${name}`, field as z.ZodType, out);
    }
  } else if (def.type === 'array' && def.element !== undefined && unwrap(def.element).inner.def.type === 'object') {
    entries(`${path}[i]`, def.element, out, true);
  } else if (def.type === 'record' && def.valueType !== undefined && unwrap(def.valueType).inner.def.type === 'object') {
    entries(`${path}.<name>`, def.valueType, out, true);
  }
}

/** docs/config-reference.md: every key and field, with its type, default and description. */
export function configReference(): string {
  const out = [
    '# Stack config reference',
    '',
    '<!-- Generated from stacks/config/schema.ts by `npm run config:generate`: edit the schema, not this file. -->',
    '',
    `Every key is \`${CONFIG_NAMESPACE}:<key>\` in \`Pulumi.<stack>.yaml\`; set a field of a structured key with`,
    '`pulumi config set --path <key>.<field> <value>` (or `--config <key>.<field>=<value>` for `npm run synth`, `plan` and',
    '`preflight`). The program checks every key before it registers anything and reports every problem at once, each as',
    `\`${CONFIG_NAMESPACE}:<key>: <problem>, got <value>; <fix>\`. A default in words is applied by the construct named, or`,
    'computed from the keys named; see [configuration.md](configuration.md) for how the keys work together.',
  ];
  for (const [key, schema] of Object.entries(stackConfigSchema.shape)) {
    out.push('', `## \`${key}\``, '');
    entries(key, schema, out);
  }
  return `${out.join('\n')}\n`;
}
