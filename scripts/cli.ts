// Argument parsing shared by the offline CLIs (`npm run synth`, `npm run plan`).

/** The parsed arguments of a stack CLI. */
export interface StackArgs {
  readonly stack: string;
  /** `key=value` config overrides, in order. */
  readonly overrides: readonly string[];
  readonly out?: string;
}

/**
 * Parses `--stack <name> [--config key=value ...] [--out dir]`. Throws a message that ends with `usage`
 * on anything else, so a typo never silently renders the wrong thing.
 */
export function parseStackArgs(argv: readonly string[], usage: string, options: { readonly out: boolean }): StackArgs {
  const flags = options.out ? ['--stack', '--config', '--out'] : ['--stack', '--config'];
  let stack: string | undefined;
  let out: string | undefined;
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (!flags.includes(arg)) {
      throw new Error(`unknown argument "${arg}"; usage: ${usage}`);
    }
    if (value === undefined) {
      throw new Error(`${arg}: needs a value; usage: ${usage}`);
    }
    i++;
    if (arg === '--stack') {
      stack = value;
    } else if (arg === '--config') {
      overrides.push(value);
    } else {
      out = value;
    }
  }
  if (stack === undefined) {
    throw new Error(`--stack: is required; usage: ${usage}`);
  }
  return { stack, overrides, ...(out !== undefined ? { out } : {}) };
}
