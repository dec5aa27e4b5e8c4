// Validation and parsing shared by the constructs. Every message has the shape
// `<prop>: <problem>, got <value>; <fix>`.

/** Requests and limits, as Kubernetes quantities. */
export interface ResourceRequirements {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True for an RFC 1123 label: lowercase letters, digits and `-`, at most 63 characters. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** True for a fully qualified DNS name of at least two labels, e.g. `app.example.com`. */
export function isDnsName(host: string): boolean {
  const labels = host.split('.');
  return host.length <= 253 && labels.length >= 2 && labels.every(isDnsLabel);
}

/** True for an RFC 1123 subdomain (most object names, e.g. a Secret's). */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => label.length > 0 && DNS_LABEL.test(label));
}

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

/** Whether `key` is a key of a ConfigMap's or a Secret's data: letters, digits, `-`, `_` and `.`, at most 253 (the API server's rule). */
export function isDataKey(key: string): boolean {
  return key.length <= 253 && DATA_KEY.test(key);
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Whether `key` is a Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  return (prefix === undefined || isDnsSubdomain(prefix)) && LABEL_NAME.test(name);
}

/** Whether `value` is a Kubernetes label value (empty, or at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends). */
export function isLabelValue(value: string): boolean {
  return value === '' || LABEL_NAME.test(value);
}

/** Validates a DNS host name (RFC 1123), e.g. `app.example.com`. */
export function validateHost(key: string, host: string): void {
  if (!isDnsName(host)) {
    throw new Error(`${key}: is not a DNS name, got "${host}"; use a lowercase fully qualified name such as "app.example.com"`);
  }
}

/** Throws unless `name` can be an environment variable's name (what a container's `env` accepts and a shell can read). */
export function requireEnvName(key: string, name: string, example: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`${key}: is not an environment variable name, got ${JSON.stringify(name)}; use letters, digits and underscores, e.g. ${example}`);
  }
}

/** Throws unless `value` is a whole number of at least `min`. */
export function requireInteger(key: string, value: number, min: number, max = INT32_MAX): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${key}: must be a whole number of at least ${min}, got ${value}; set ${key} to ${min} or more`);
  }
  if (value > max) {
    throw new Error(`${key}: must be a whole number from ${min} to ${max}, got ${value}; set ${key} to ${max} or less`);
  }
}

/**
 * What is wrong with `path` as the path (and query) of an HTTP request made by a probe or the gate, or undefined: it
 * must start with `/` and hold only printable ASCII without spaces; `#` would start a fragment, which is never sent.
 */
export function httpPathProblem(path: string): { problem: string; fix: string } | undefined {
  if (!path.startsWith('/')) {
    return { problem: 'must be an absolute HTTP path', fix: 'e.g. `/ready`' };
  }
  if (!/^\/[\x21-\x7e]*$/.test(path) || path.includes('#')) {
    return {
      problem: 'must be an HTTP path of printable ASCII without spaces or "#"',
      fix: 'percent-encode the rest, e.g. `/search?q=a%20b`, or use a plain path such as `/ready`',
    };
  }
  return undefined;
}

/**
 * Whether `error` is a construct refusing its props: a plain Error (or a {@link ValidationError} of several), as every
 * check here throws. A TypeError or the like is a defect, never a config problem.
 */
export function isRefusal(error: unknown): error is Error {
  return error instanceof ValidationError || (error instanceof Error && error.constructor === Error);
}

/** Several problems with a construct's props at once, one message each (`<prop>: <problem>, got <value>; <fix>`). */
export class ValidationError extends Error {
  public constructor(public readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ValidationError';
  }
}

/**
 * Collects the problems of a construct's independent checks, so that one run reports them all: {@link attempt} runs a
 * check and records what it refuses (a plain Error); {@link throwIfAny} throws them together, as a
 * {@link ValidationError} (or the one Error as it was, when there is only one).
 */
export class Problems {
  private readonly errors: Error[] = [];

  /** Runs `check`; returns its result, or undefined when it refused the props (recorded). */
  public attempt<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      // Anything but a refusal (a TypeError, ...) is a defect: not collected.
      if (!isRefusal(error)) {
        throw error;
      }
      this.errors.push(error);
      return undefined;
    }
  }

  /** Runs every check, recording what each refuses. */
  public check(...checks: (() => unknown)[]): void {
    for (const check of checks) {
      this.attempt(check);
    }
  }

  public throwIfAny(): void {
    if (this.errors.length === 1 && !(this.errors[0] instanceof ValidationError)) {
      throw this.errors[0];
    }
    if (this.errors.length > 0) {
      throw new ValidationError(this.errors.flatMap((error) => (error instanceof ValidationError ? error.problems : [error.message])));
    }
  }
}

/** The largest value of a Kubernetes `int32` field (replicas, ports, seconds): every count here lands in one. */
export const INT32_MAX = 2147483647;

/** Throws unless `value` is a lowercase DNS label of at most `max` characters that starts with a letter. */
export function requireDnsLabel(key: string, value: string, max: number, example: string): void {
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > max) {
    throw new Error(`${key}: must be a lowercase DNS label of at most ${max} characters starting with a letter, got "${value}"; e.g. ${example}`);
  }
}

/** Throws unless `value` is a storage size in Mi, Gi or Ti, e.g. `100Gi`. */
export function requireStorageQuantity(key: string, value: string): void {
  if (!/^[1-9][0-9]*(Mi|Gi|Ti)$/.test(value)) {
    throw new Error(`${key}: is not a storage quantity, got "${value}"; use a whole number of Mi, Gi or Ti, e.g. "100Gi"`);
  }
}

/** Throws unless `value` can prefix environment variable names, e.g. `DATABASE`. */
export function requireEnvPrefix(key: string, value: string): void {
  if (!/^[A-Z][A-Z0-9_]*$/.test(value)) {
    throw new Error(`${key}: must be upper-case letters, digits and underscores starting with a letter, got "${value}"; e.g. "DATABASE"`);
  }
}

/** Parses a CPU quantity (`250m`, `0.5`, `2`) into millicores. */
export function parseMillicores(key: string, quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity);
  const millis = match ? (match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000) : NaN;
  if (!Number.isInteger(millis) || millis <= 0) {
    throw new Error(`${key}: is not a CPU quantity, got "${quantity}"; use millicores like "250m" or cores like "1"`);
  }
  return millis;
}

/** Parses a memory quantity (`512Mi`, `1Gi`) into mebibytes. */
export function parseMebibytes(key: string, quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match || Number(match[1]) <= 0) {
    throw new Error(`${key}: is not a memory quantity in Mi or Gi, got "${quantity}"; use e.g. "256Mi" or "1Gi"`);
  }
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/** Validates and renders CPU and memory, with every request at most its limit. */
export function resolveResources(
  resources: { readonly cpuRequest?: string; readonly cpuLimit?: string; readonly memoryRequest?: string; readonly memoryLimit?: string },
  defaults: { readonly cpuRequest: string; readonly cpuLimit: string; readonly memoryRequest: string; readonly memoryLimit: string },
): ResourceRequirements {
  const cpuRequest = parseMillicores('resources.cpuRequest', resources.cpuRequest ?? defaults.cpuRequest);
  const cpuLimit = parseMillicores('resources.cpuLimit', resources.cpuLimit ?? defaults.cpuLimit);
  const memoryRequest = parseMebibytes('resources.memoryRequest', resources.memoryRequest ?? defaults.memoryRequest);
  const memoryLimit = parseMebibytes('resources.memoryLimit', resources.memoryLimit ?? defaults.memoryLimit);
  if (cpuRequest > cpuLimit) {
    throw new Error(`resources.cpuRequest: exceeds resources.cpuLimit ${cpuLimit}m, got ${cpuRequest}m; lower the request or raise the limit`);
  }
  if (memoryRequest > memoryLimit) {
    throw new Error(
      `resources.memoryRequest: exceeds resources.memoryLimit ${memoryLimit}Mi, got ${memoryRequest}Mi; lower the request or raise the limit`,
    );
  }
  return {
    requests: { cpu: `${cpuRequest}m`, memory: mebibytes(memoryRequest) },
    limits: { cpu: `${cpuLimit}m`, memory: mebibytes(memoryLimit) },
  };
}

function mebibytes(value: number): string {
  return value % 1024 === 0 ? `${value / 1024}Gi` : `${value}Mi`;
}
