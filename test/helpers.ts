import { App, Chart } from 'cdk8s';
import { BlueGreenApp, BlueGreenAppProps, Manifest, renderChart } from '../lib';
import { expect } from 'vitest';
import { ConfigError, parseStackConfig } from '../stacks/config';
import { buildPlatform } from '../stacks/platform';

/** Minimal valid props; tests override what they are about. */
export const BASE_PROPS: BlueGreenAppProps = {
  name: 'web',
  activeColor: 'blue',
  blue: { image: 'registry.example.com/acme/web:1.0.0' },
  green: { image: 'registry.example.com/acme/web:1.1.0' },
  ingress: { host: 'web.example.com' },
  routing: { gateway: { name: 'public', namespace: 'gateway-system' } },
};

/** Renders one BlueGreenApp in a namespaced chart. */
export function renderApp(overrides: Partial<BlueGreenAppProps> = {}): { app: BlueGreenApp; manifests: Manifest[] } {
  const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
  const app = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...overrides });
  return { app, manifests: renderChart(chart).map((r) => r.manifest) };
}

/** The one manifest of `kind` named `name`; fails the test when absent. */
export function find(manifests: readonly Manifest[], kind: string, name: string): Manifest & Record<string, any> {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) {
    throw new Error(`no ${kind} "${name}" among: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  }
  return found as Manifest & Record<string, any>;
}

/** Names of the manifests, as `Kind/name`, sorted. */
export function names(manifests: readonly Manifest[]): string[] {
  return manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
}

/** Every problem `buildPlatform` reports for `raw` (which parses), as messages; fails the test when it reports none. */
export function platformProblems(raw: Readonly<Record<string, string>>, stack: string): string[] {
  const config = parseStackConfig(raw, stack);
  try {
    buildPlatform(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.message);
  }
  throw new Error('expected a ConfigError');
}

/** Every problem `parseStackConfig` reports for `raw`, as messages; fails the test when it reports none. */
export function configProblems(raw: Readonly<Record<string, string>>, stack: string): string[] {
  try {
    parseStackConfig(raw, stack);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.message);
  }
  throw new Error('expected a ConfigError');
}
