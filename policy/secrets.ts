import { PolicyObject, describeObject, isKind, violation } from './kubernetes';
import { containersOf, workloadsOf } from './workloads';

/**
 * Names that hold secrets by convention: the last word is PASSWORD, TOKEN, SECRET, API_KEY, … (so
 * `DATABASE_PASSWORD` matches and `PASSWORD_MIN_LENGTH` does not).
 */
const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i;

/** An environment-variable-shaped key, as ConfigMap keys loaded with `envFrom` are. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Only `$(VAR)` references: the kubelet fills in the values, none is in the manifest. */
const ONLY_REFERENCES = /^(\$\([A-Za-z_][A-Za-z0-9_]*\))*$/;

/** Whether a variable or key name is a secret's by naming convention. */
export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Secret values written into the program (and so into Pulumi state and every preview): a Secret object with
 * `data` or `stringData`, a ConfigMap key named like a secret, or a container environment variable named like
 * a secret with a literal `value`. Secrets must exist in the cluster beforehand (or come from an external
 * secrets operator) and be referenced by name (`secretKeyRef`, `envFrom.secretRef`). Messages name keys,
 * never values.
 */
export function literalSecretViolations(object: PolicyObject): string[] {
  const found: string[] = [];
  if (isKind(object, 'v1', 'Secret')) {
    const keys = ['data', 'stringData'].flatMap((field) => {
      const values = object.props[field];
      return typeof values === 'object' && values !== null ? Object.keys(values).map((key) => `${field}.${key}`) : [];
    });
    if (keys.length > 0) {
      found.push(
        violation(
          describeObject(object),
          'carries secret values in the program, its state and every preview',
          keys.join(', '),
          'create the Secret outside the stack (or with an external secrets operator) and reference it by name (secretNames, secretKeyRef)',
        ),
      );
    }
  }
  if (isKind(object, 'v1', 'ConfigMap')) {
    const data = object.props.data;
    for (const key of typeof data === 'object' && data !== null ? Object.keys(data) : []) {
      if (ENV_NAME.test(key) && looksSecret(key)) {
        found.push(
          violation(
            `${describeObject(object)} data.${key}`,
            'is named like a secret but is a literal ConfigMap value',
            `key ${key}`,
            'move it into a Secret and load it with envFrom.secretRef or valueFrom.secretKeyRef',
          ),
        );
      }
    }
  }
  for (const workload of workloadsOf(object)) {
    for (const { where, container } of containersOf(workload.podSpec)) {
      for (const variable of container.env ?? []) {
        const value = variable.value ?? '';
        if (looksSecret(variable.name) && variable.valueFrom === undefined && !ONLY_REFERENCES.test(value)) {
          found.push(
            violation(
              `${workload.where} ${where} env ${variable.name}`,
              'is named like a secret but has a literal value',
              `${value.length} characters`,
              'read it from a Secret with valueFrom.secretKeyRef',
            ),
          );
        }
      }
    }
  }
  return found;
}
