import { App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BlueGreenApp, CutoverGate } from '../../lib';
import { curlCommand, requireGateJobName, shellQuote } from '../../lib/gates/gate-job';
import { BASE_PROPS } from '../helpers';

describe('gate-job', () => {
  it('refuses an app name too long for a gate Job name of either color', () => {
    const name = 'a'.repeat(50);
    expect(() => requireGateJobName(name, 'gate', 'the gate')).not.toThrow();
    expect(() => requireGateJobName(`${name}abcd`, 'gate', 'the gate')).toThrow(
      `app.name: is too long for the gate's Job name "${name}abcd-gate-green" (65 characters, at most 63), got "${name}abcd"; ` +
        'shorten the app name to 52 characters or fewer',
    );
  });

  it('quotes any value as one shell word', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('builds the curl prefix of every gate request, retries only when asked', () => {
    expect(curlCommand({ requestTimeoutSeconds: 5, retries: 0 })).toBe('curl -q --globoff --silent --show-error --max-time 5');
    expect(curlCommand({ requestTimeoutSeconds: 5, retries: 2 })).toBe(
      'curl -q --globoff --silent --show-error --max-time 5 --retry 2 --retry-delay 1 --retry-connrefused',
    );
  });

  it("the smoke gate checks the app's probe paths as the app exposes them, not as its Deployment renders them", () => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
    const app = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, readinessPath: '/readyz', livenessPath: '/livez' });
    expect([app.readinessPath, app.livenessPath, app.containerName, app.metricsPortName]).toEqual(['/readyz', '/livez', 'app', 'metrics']);
    const gate = new CutoverGate(chart, 'gate', { app });
    expect(gate.checks.slice(0, 2).map((check) => check.path)).toEqual(['/readyz', '/livez']);
  });
});
