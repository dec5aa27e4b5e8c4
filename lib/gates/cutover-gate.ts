import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { IBlueGreenApp } from '../app/blue-green-app';
import { Color } from '../core/color';
import { ImageRef } from '../core/image';
import { Problems, httpPathProblem } from '../core/validation';
import {
  GateJobOptions,
  SwitchGate,
  checkGateTiming,
  createGateJob,
  curlCommand,
  gateResources,
  gateTarget,
  requireGateJobName,
  requirePinnedImage,
  requireTimeoutBelowDeadline,
  resolveGateTiming,
  shellQuote,
} from './gate-job';

/** One HTTP request of the smoke test: `GET <path>` on the color about to be live. */
export interface HttpCheck {
  /** Path and query, starting with `/`, e.g. `/api/v1/status?deep=true`. */
  readonly path: string;

  /**
   * The status the response must have.
   * @default 200
   */
  readonly expectStatus?: number;

  /**
   * Text the response body must contain (matched literally).
   * @default - the body is not checked
   */
  readonly contains?: string;
}

/** An {@link HttpCheck} with its defaults applied. */
export interface ResolvedHttpCheck {
  readonly path: string;
  readonly expectStatus: number;
  readonly contains?: string;
}

/** What {@link CutoverGate} checks and how, apart from the app. */
export interface CutoverGateOptions extends GateJobOptions {
  /**
   * Checks run after the readiness and liveness paths of the app, in order; the first failure fails the gate.
   * @default []
   */
  readonly checks?: readonly HttpCheck[];
}

/** Props of {@link CutoverGate}. */
export interface CutoverGateProps extends CutoverGateOptions {
  /** The app whose active color (the one about to be, or being, live) is checked before its traffic objects change. */
  readonly app: IBlueGreenApp;
}

/** The smoke-test image when none is given: curl's official container image, pinned. */
export const DEFAULT_GATE_IMAGE = 'curlimages/curl:8.20.0';

/**
 * The gate before a switch: nothing moves traffic to a color until that color has just passed a smoke test.
 *
 * For the app's active color `c` it renders `Job <app>-gate-<c>`, after `c`'s Deployment and the Service of `c`'s current
 * pod template (`<app>-<c>-<templateId>`, {@link BlueGreenApp.templateServices}): it `GET`s the readiness path, the
 * liveness path and `checks` through that Service and fails on the first unexpected answer. That Service never selected
 * the pods of `c`'s earlier template: when the same update rolls `c` out and switches to it, the previous pods still
 * answer while they drain, and a check through `c`'s own Service could reach them and pass against the old release.
 * Requests through a ClusterIP reach only ready endpoints, so a color with none fails the first check (connection
 * refused, retried): the gate is also the check that the color has ready endpoints, made when it matters, just before
 * traffic moves. `pulumi up` then fails with the Job's output in the message (the script copies its output to the
 * pod's termination message, see {@link reportingScript}).
 *
 * The app's live Service, preview Service and routes wait for the Job ({@link guard} adds more).
 *
 * The Job's name contains the color, so every change of `activeColor`, a rollback too, deletes the previous gate and
 * creates a new one: the gate runs on every switch, also when `c`'s Deployment is unchanged in that update (a color
 * deployed days ago may have become unhealthy since, and Pulumi re-checks only what it changes). The Job's environment carries `c`'s
 * image and a hash of its pod template, so a rollout of the live color re-runs the gate as well (a changed Job
 * template replaces the Job).
 *
 * The Job is not cleaned up after it finishes (`ttlSecondsAfterFinished` unset): Pulumi owns it, and a Job deleted
 * behind its back would be drift that every `pulumi up --refresh` answers by creating (and running) it again. A
 * failed gate is replaced by the next `pulumi up` (`pulumi.com/replaceUnready`), so it runs again after a fix.
 *
 * Network: the gate's pods need the app's HTTP port, `policies.allow(gate).to(app)` with a NetworkPolicySet.
 */
export class CutoverGate extends SwitchGate {
  /** The color checked: the app's active color. */
  public readonly color: Color;
  /** Name of the gate Job, `<app>-gate-<color>`. */
  public readonly name: string;
  /** Where the checks go: the Service of the color's current pod template, inside the cluster. */
  public readonly url: string;
  public readonly image: ImageRef;
  /** Every check, in order: readiness, liveness, then `checks`. */
  public readonly checks: readonly ResolvedHttpCheck[];
  public readonly activeDeadlineSeconds: number;
  /** The Service the checks go through: the checked color's current pod template only, `<app>-<color>-<templateId>`, rendered by the app. */
  public readonly service: ApiObject;
  public readonly job: ApiObject;

  public constructor(scope: Construct, id: string, props: CutoverGateProps) {
    super(scope, id, { what: 'the gate', afterExample: 'gate.after(expandMigration)', podName: `${props.app.name}-gate`, component: 'cutover-gate' });
    const app = props.app;
    const target = gateTarget(app);
    this.color = target.color;
    requireGateJobName(app.name, 'gate', 'the gate');
    this.name = `${app.name}-gate-${this.color}`;
    const timing = resolveGateTiming(props, 5);
    this.activeDeadlineSeconds = timing.activeDeadlineSeconds;
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    const image = problems.attempt(() => requirePinnedImage('image', props.image ?? DEFAULT_GATE_IMAGE));
    checkGateTiming(problems, timing);
    problems.throwIfAny();
    // Defined once no check refused.
    this.image = image as ImageRef;
    requireTimeoutBelowDeadline(timing);
    this.checks = resolveChecks([{ path: app.readinessPath }, { path: app.livenessPath }, ...(props.checks ?? [])], (props.checks ?? []).length);
    const resources = gateResources(props);

    const namespace = Chart.of(this).namespace;
    const service = app.templateServices[this.color];
    if (service === undefined) {
      throw new Error(
        `app: ${app.node.path} has no Service for its active color ${this.color} (it runs no replicas); give ${this.color} replicas before gating it`,
      );
    }
    this.service = ApiObject.of(service);
    this.url = `http://${this.service.name}${namespace !== undefined ? `.${namespace}.svc` : ''}`;
    this.job = createGateJob(this, {
      app,
      target,
      name: this.name,
      component: 'cutover-gate',
      podName: `${app.name}-gate`,
      containerName: 'smoke-test',
      image: this.image,
      script: gateScript(this.checks, timing),
      env: [{ name: 'CUTOVER_GATE_URL', value: this.url }],
      resources,
      timing,
    });
    this.job.node.addDependency(this.service, target.deployment);

    this.guard(...app.routingObjects);
  }
}

/** Options of {@link gateScript}. */
export interface GateScriptOptions {
  /** curl `--max-time` of each attempt. */
  readonly requestTimeoutSeconds: number;
  /** curl `--retry`. */
  readonly retries: number;
}

/**
 * The smoke test as a POSIX `sh` script: `GET $CUTOVER_GATE_URL<path>` for each check in order, one line per check
 * (`ok   GET /ready -> 200`), and on the first failure a `FAIL GET ...` line and exit status 1. Needs `curl` >= 7.52.
 * Every value from the checks is a single-quoted shell word, so no path or text can run as shell code.
 */
export function gateScript(checks: readonly HttpCheck[], options: GateScriptOptions): string {
  const curl = `${curlCommand(options)} --write-out '%{http_code}'`;
  return [
    'set -u',
    'passed=0',
    '# check PATH STATUS TEXT: GET $CUTOVER_GATE_URL$PATH must answer STATUS, with TEXT in the body unless TEXT is empty.',
    'check() {',
    `  out=$(${curl} "$CUTOVER_GATE_URL$1")`,
    '  code=$?',
    '  if [ "$code" -ne 0 ]; then',
    `    printf 'FAIL GET %s: no HTTP response (curl exit code %s)\\n' "$1" "$code"`,
    '    exit 1',
    '  fi',
    '  status=${out#"${out%???}"}',
    '  body=${out%???}',
    '  if [ "$status" != "$2" ]; then',
    // What the color answered, on one line and cut short: the reviewer reads it in the failed update's error.
    `    excerpt=$(printf '%s' "$body" | tr '\\n\\r' '  ' | cut -c1-200)`,
    `    printf 'FAIL GET %s: expected status %s, got %s: %s\\n' "$1" "$2" "$status" "\${excerpt:-(empty body)}"`,
    '    exit 1',
    '  fi',
    '  case $body in',
    `    *"$3"*) ;;`,
    `    *) printf 'FAIL GET %s: status %s, but the body does not contain "%s"\\n' "$1" "$status" "$3"; exit 1 ;;`,
    '  esac',
    '  passed=$((passed + 1))',
    `  printf 'ok   GET %s -> %s\\n' "$1" "$status"`,
    '}',
    ...checks.map((check) => `check ${shellQuote(check.path)} ${check.expectStatus ?? 200} ${shellQuote(check.contains ?? '')}`),
    `printf 'gate passed: %s checks against %s\\n' "$passed" "$CUTOVER_GATE_URL"`,
    '',
  ].join('\n');
}

function resolveChecks(checks: readonly HttpCheck[], configured: number): ResolvedHttpCheck[] {
  const offset = checks.length - configured;
  return checks.map((check, index) => {
    // The first two come from the app's probes; only the configured ones are named `checks[i]`.
    const key = index < offset ? (index === 0 ? 'app readinessPath' : 'app livenessPath') : `checks[${index - offset}]`;
    if (check.path === undefined) {
      throw new Error(`${key}.path: is required: the path the check requests, got nothing; e.g. "/api/status"`);
    }
    // The probes' rule: `#` starts a fragment, which is never sent; whitespace and control characters are not allowed in a URL.
    if (typeof check.path !== 'string' || httpPathProblem(check.path) !== undefined) {
      throw new Error(
        `${key}.path: must start with "/" and hold only printable ASCII without spaces or "#", got ${JSON.stringify(check.path)}; ` +
          `percent-encode the rest, e.g. "/search?q=a%20b"`,
      );
    }
    const expectStatus = check.expectStatus ?? 200;
    if (!Number.isInteger(expectStatus) || expectStatus < 100 || expectStatus > 599) {
      throw new Error(`${key}.expectStatus: must be an HTTP status from 100 to 599, got ${expectStatus}; e.g. 200`);
    }
    // eslint-disable-next-line no-control-regex -- control characters are what the check refuses
    if (check.contains !== undefined && (check.contains === '' || /[\x00-\x1f\x7f]/.test(check.contains))) {
      throw new Error(
        `${key}.contains: must be non-empty text on one line, without control characters, got ${JSON.stringify(check.contains)}; ` +
          `e.g. "\\"status\\":\\"ok\\""`,
      );
    }
    return { path: check.path, expectStatus, ...(check.contains !== undefined ? { contains: check.contains } : {}) };
  });
}
