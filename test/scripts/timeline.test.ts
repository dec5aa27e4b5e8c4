import { describe, expect, it } from 'vitest';
import { EngineEventStream, formatPhases, stepSpans, updatePhases } from '../../scripts/timeline';

const urn = (type: string, name: string) => `urn:pulumi:bench::cutover::${type}::${name}`;
const meta = (op: string, type: string, name: string) => ({ op, type, urn: urn(type, name) });

describe('EngineEventStream', () => {
  it('stamps each complete JSON line when it arrives, whatever the chunking, and skips other output', () => {
    const stream = new EngineEventStream(1000);
    stream.feed('{"sequence":0,"prel', 1100);
    stream.feed('udeEvent":{}}\nnot json\n{"sequence":1,', 1200);
    stream.feed('"summaryEvent":{}}\n', 1500);
    expect(stream.events).toEqual([
      { atMs: 200, event: { sequence: 0, preludeEvent: {} } },
      { atMs: 500, event: { sequence: 1, summaryEvent: {} } },
    ]);
  });
});

describe('stepSpans and updatePhases', () => {
  const service = 'kubernetes:core/v1:Service';
  const job = 'kubernetes:batch/v1:Job';
  const events = [
    { atMs: 250, event: { preludeEvent: {} } },
    { atMs: 800, event: { resourcePreEvent: { metadata: meta('same', 'pulumi:pulumi:Stack', 'cutover-bench') } } },
    { atMs: 1600, event: { resourcePreEvent: { metadata: meta('create', job, 'ns/web-gate-green') } } },
    { atMs: 4600, event: { resOutputsEvent: { metadata: meta('create', job, 'ns/web-gate-green') } } },
    { atMs: 4610, event: { resourcePreEvent: { metadata: meta('update', service, 'ns/web') } } },
    { atMs: 4650, event: { resOutputsEvent: { metadata: meta('update', service, 'ns/web') } } },
    { atMs: 4700, event: { resourcePreEvent: { metadata: meta('delete', job, 'ns/web-gate-blue') } } },
    { atMs: 4800, event: { resourcePreEvent: { metadata: meta('update', service, 'ns/other') } } },
    { atMs: 4900, event: { resOpFailedEvent: { metadata: meta('update', service, 'ns/other') } } },
    { atMs: 5000, event: { summaryEvent: {} } },
  ];

  it('pairs each step that did something with its end, failed or not, and keeps the unfinished ones', () => {
    expect(stepSpans(events)).toEqual([
      { op: 'create', type: job, name: 'ns/web-gate-green', startMs: 1600, endMs: 4600, failed: false },
      { op: 'update', type: service, name: 'ns/web', startMs: 4610, endMs: 4650, failed: false },
      { op: 'delete', type: job, name: 'ns/web-gate-blue', startMs: 4700, endMs: undefined, failed: false },
      { op: 'update', type: service, name: 'ns/other', startMs: 4800, endMs: 4900, failed: true },
    ]);
  });

  it('reports the prelude, the first registration and the summary, and formats one line per step', () => {
    const phases = updatePhases(events);
    expect([phases.preludeMs, phases.firstRegistrationMs, phases.summaryMs]).toEqual([250, 800, 5000]);
    const lines = formatPhases('cutover', phases, 5100);
    expect(lines[0]).toBe('cutover: command   5.10 s; prelude   0.25 s; first registration   0.80 s; summary   5.00 s');
    expect(lines[1]).toMatch(/^ {2} {2}1\.60 → {3}4\.60 {2}create +Job +ns\/web-gate-green$/);
    expect(lines[3]).toContain('   -  ');
    expect(lines[4]).toContain('update (failed)');
  });
});
