// Where the time of a `pulumi up` goes: the engine events `pulumi up --json` streams, stamped with the time each
// arrived (the events' own timestamps are whole seconds). Pure summaries below turn
// the events into phases (program start, each resource's step, each await) for bench/cutover.ts.

/** One engine event as it arrived, `atMs` after the command started. */
export interface TimedEvent {
  readonly atMs: number;
  readonly event: EngineEvent;
}

/** The fields of Pulumi's engine events (apitype.EngineEvent) that the summaries read. */
export interface EngineEvent {
  readonly sequence?: number;
  readonly preludeEvent?: unknown;
  readonly summaryEvent?: unknown;
  readonly resourcePreEvent?: { readonly metadata: StepMetadata };
  readonly resOutputsEvent?: { readonly metadata: StepMetadata };
  readonly resOpFailedEvent?: { readonly metadata: StepMetadata };
  readonly diagnosticEvent?: { readonly urn?: string; readonly message: string; readonly severity: string; readonly ephemeral?: boolean };
}

interface StepMetadata {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

/**
 * Reads the engine events of `pulumi up --json` (one JSON object per line on stdout) as they arrive: {@link feed}
 * it every chunk of output, and each complete line becomes an event stamped with the time it arrived.
 */
export class EngineEventStream {
  private partial = '';
  public readonly events: TimedEvent[] = [];

  public constructor(private readonly startedAt: number) {}

  public feed(chunk: string, now = Date.now()): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const text = line.trim();
      if (text.startsWith('{')) {
        this.events.push({ atMs: now - this.startedAt, event: JSON.parse(text) as EngineEvent });
      }
    }
  }
}

/** One resource's step: when the engine started it and when it finished (its await included). */
export interface StepSpan {
  readonly op: string;
  readonly type: string;
  /** `namespace/name`, the last part of the URN. */
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number | undefined;
  readonly failed: boolean;
}

/** The steps that did something (not `same`), in the order they started. */
export function stepSpans(events: readonly TimedEvent[]): StepSpan[] {
  const open = new Map<string, { op: string; type: string; startMs: number }>();
  const spans: StepSpan[] = [];
  const nameOf = (urn: string): string => urn.split('::').slice(3).join('::');
  for (const { atMs, event } of events) {
    const pre = event.resourcePreEvent?.metadata;
    if (pre !== undefined && pre.op !== 'same') {
      open.set(`${pre.op} ${pre.urn}`, { op: pre.op, type: pre.type, startMs: atMs });
    }
    const done = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (done !== undefined && done.op !== 'same') {
      const started = open.get(`${done.op} ${done.urn}`);
      if (started !== undefined) {
        open.delete(`${done.op} ${done.urn}`);
        spans.push({ ...started, name: nameOf(done.urn), endMs: atMs, failed: event.resOpFailedEvent !== undefined });
      }
    }
  }
  for (const [key, started] of open) {
    spans.push({ ...started, name: nameOf(key.slice(key.indexOf(' ') + 1)), endMs: undefined, failed: false });
  }
  return spans.sort((a, b) => a.startMs - b.startMs);
}

/** The phases of one update, in ms from the command's start. */
export interface UpdatePhases {
  /** Until the engine's prelude: CLI start, plugins, stack and config load. */
  readonly preludeMs: number | undefined;
  /** Until the first resource was registered: language host, TypeScript, the program's config, render and reads. */
  readonly firstRegistrationMs: number | undefined;
  /** Until the summary: the update's end as the engine sees it. */
  readonly summaryMs: number | undefined;
  readonly steps: readonly StepSpan[];
}

export function updatePhases(events: readonly TimedEvent[]): UpdatePhases {
  const first = (pick: (event: EngineEvent) => unknown): number | undefined => events.find((e) => pick(e.event) !== undefined)?.atMs;
  return {
    preludeMs: first((e) => e.preludeEvent),
    firstRegistrationMs: first((e) => e.resourcePreEvent),
    summaryMs: first((e) => e.summaryEvent),
    steps: stepSpans(events),
  };
}

/** A one-line-per-step text of an update's phases, for the bench's breakdown. */
export function formatPhases(title: string, phases: UpdatePhases, commandMs: number): string[] {
  const s = (ms: number | undefined): string => (ms === undefined ? '   -  ' : `${(ms / 1000).toFixed(2).padStart(6)}`);
  return [
    `${title}: command ${s(commandMs)} s; prelude ${s(phases.preludeMs)} s; first registration ${s(phases.firstRegistrationMs)} s; summary ` +
      `${s(phases.summaryMs)} s`,
    ...phases.steps.map(
      (step) =>
        `  ${s(step.startMs)} → ${s(step.endMs)}  ${`${step.op}${step.failed ? ' (failed)' : ''}`.padEnd(16)} ` +
        `${step.type.split(':').pop()?.padEnd(22)} ${step.name}`,
    ),
  ];
}
