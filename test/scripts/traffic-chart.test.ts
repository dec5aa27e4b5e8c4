import { describe, expect, it } from 'vitest';
import { SwitchChartPanel, escapeXml, renderSwitchChart, renderSwitchCharts } from '../../scripts/traffic-chart';
import { TrafficBucket } from '../../scripts/traffic';

// The switch chart is checked as a document (well-formed XML, one root) and by its elements: bar heights against
// counts, stacking order, markers, legend and escaping.

const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos);)/;

/** Throws unless `xml` is one well-formed element: matched tags, quoted attributes without duplicates, escaped text. */
function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  let at = 0;
  while (at < xml.length) {
    const next = xml.indexOf('<', at);
    const text = xml.slice(at, next === -1 ? xml.length : next);
    if (ENTITY.test(text) || text.includes('>')) {
      throw new Error(`unescaped text at ${at}: ${JSON.stringify(text.slice(0, 40))}`);
    }
    if (stack.length === 0 && text.trim() !== '') {
      throw new Error(`text outside the root at ${at}`);
    }
    if (next === -1) {
      break;
    }
    TAG.lastIndex = next;
    const tag = TAG.exec(xml);
    if (tag === null) {
      throw new Error(`malformed tag at ${next}: ${JSON.stringify(xml.slice(next, next + 40))}`);
    }
    const [whole, closing, name, attributes, selfClosing] = tag;
    const names = [...attributes.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => {
      if (ENTITY.test(a[2])) {
        throw new Error(`unescaped attribute ${a[1]} of <${name}> at ${next}`);
      }
      return a[1];
    });
    if (new Set(names).size !== names.length) {
      throw new Error(`duplicate attribute in <${name}> at ${next}`);
    }
    if (closing !== '') {
      if (stack.pop() !== name) {
        throw new Error(`</${name}> at ${next} closes nothing open`);
      }
    } else {
      if (stack.length === 0) {
        roots++;
      }
      if (selfClosing === '') {
        stack.push(name);
      }
    }
    at = next + whole.length;
  }
  if (stack.length > 0 || roots !== 1) {
    throw new Error(`${roots} root element(s), unclosed: ${stack.join(', ')}`);
  }
}

/** The attributes of every `<name>` element, in document order. */
function elements(svg: string, name: string): Array<Record<string, string>> {
  return [...svg.matchAll(new RegExp(`<${name}\\b([^>]*?)/?>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );
}

/** The text of every `<text class="…">` element of that class. */
function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);
}

const bucket = (startMs: number, counts: Partial<Omit<TrafficBucket, 'startMs'>>): TrafficBucket => ({
  startMs,
  blue: 0,
  green: 0,
  none: 0,
  failed: 0,
  ...counts,
});

const PANEL: SwitchChartPanel = {
  title: 'web: blue → green',
  intervalMs: 100,
  buckets: [bucket(0, { blue: 10 }), bucket(100, { blue: 5, green: 5 }), bucket(200, { green: 8, failed: 2 }), bucket(300, { green: 10 })],
  markers: [
    { atMs: 50, label: 'pulumi up starts' },
    { atMs: 350, label: 'command returns' },
  ],
};

describe('renderSwitchChart', () => {
  it('renders one well-formed SVG document on a white background, with the title', () => {
    const svg = renderSwitchChart(PANEL);
    checkWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="880" height="320"')).toBe(true);
    expect(elements(svg, 'rect')[0]).toMatchObject({ class: 'background', fill: '#ffffff' });
    expect(texts(svg, 'title')).toEqual(['web: blue → green']);
  });

  it('stacks blue, then green, then failures in red per interval, heights proportional to counts', () => {
    const bars = elements(renderSwitchChart(PANEL), 'rect').filter((r) => r.class.startsWith('bar '));
    expect(bars.map((b) => b.class)).toEqual(['bar blue', 'bar blue', 'bar green', 'bar green', 'bar failed', 'bar green']);
    const counts = [10, 5, 5, 8, 2, 10];
    const perResponse = Number(bars[0].height) / 10;
    bars.forEach((b, i) => expect(Number(b.height)).toBeCloseTo(counts[i] * perResponse, 1));
    // The failed segment sits right on top of the green one of its interval.
    expect(Number(bars[4].y) + Number(bars[4].height)).toBeCloseTo(Number(bars[3].y), 1);
    expect(bars[4].fill).toBe('#dc2626');
    expect(new Set(bars.filter((b) => b.class === 'bar blue').map((b) => b.fill))).toEqual(new Set(['#2563eb']));
  });

  it('labels a y axis of responses per interval and an x axis in seconds from the start', () => {
    const svg = renderSwitchChart(PANEL);
    expect(texts(svg, 'y-title')).toEqual(['responses per 100 ms']);
    // Up to one step above the highest bar (10), room for the marker labels.
    expect(texts(svg, 'y-tick')).toEqual(['0', '2', '4', '6', '8', '10', '12']);
    expect(texts(svg, 'x-title')).toEqual(['seconds from start']);
    expect(texts(svg, 'x-tick-label')).toEqual(['0', '0.05', '0.1', '0.15', '0.2', '0.25', '0.3', '0.35', '0.4']);
  });

  it('draws a dashed line with a label for each marker, at its time', () => {
    const svg = renderSwitchChart(PANEL);
    const lines = elements(svg, 'line').filter((l) => l.class === 'marker');
    expect(lines.map((l) => l['stroke-dasharray'])).toEqual(['5 4', '5 4']);
    expect(texts(svg, 'marker-label')).toEqual(['pulumi up starts', 'command returns']);
    // The plot spans 400 ms over 880 - 60 - 24 = 796 px from x = 60.
    expect(lines.map((l) => Number(l.x1))).toEqual([60 + 796 * (50 / 400), 60 + 796 * (350 / 400)]);
  });

  it('shows a legend of blue, green and failed with totals, and "no color header" only when some response lacked it', () => {
    expect(texts(renderSwitchChart(PANEL), 'legend-label')).toEqual(['blue (15)', 'green (23)', 'failed (2)']);
    const withNone = renderSwitchChart({ ...PANEL, buckets: [...PANEL.buckets, bucket(400, { none: 3 })] });
    expect(texts(withNone, 'legend-label')).toEqual(['blue (15)', 'green (23)', 'no color header (3)', 'failed (2)']);
    expect(elements(withNone, 'rect').filter((r) => r.class === 'bar none')).toHaveLength(1);
  });

  it('escapes the title and the labels', () => {
    const svg = renderSwitchChart({ ...PANEL, title: 'api <v2> & "web"', markers: [{ atMs: 0, label: "kubectl patch 'svc'" }] });
    checkWellFormed(svg);
    expect(texts(svg, 'title')).toEqual(['api &lt;v2&gt; &amp; &quot;web&quot;']);
    expect(texts(svg, 'marker-label')).toEqual(['kubectl patch &apos;svc&apos;']);
    expect(escapeXml('<a href="x">&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  });

  it('renders axes without bars when no request was sent', () => {
    const svg = renderSwitchChart({ title: 'empty', intervalMs: 100, buckets: [] });
    checkWellFormed(svg);
    expect(elements(svg, 'rect').filter((r) => r.class.startsWith('bar '))).toEqual([]);
    expect(texts(svg, 'y-tick')).toEqual(['0', '1']);
  });

  it('rejects an interval, size or marker it cannot draw, naming each', () => {
    expect(() => renderSwitchChart({ ...PANEL, intervalMs: 0, width: 100, markers: [{ atMs: -5, label: 'x' }] })).toThrow(
      [
        'intervalMs: must be a positive number of ms, got 0',
        'width: must be at least 240 px, got 100',
        'markers[0].atMs: must be at least 0 ms after the first bucket, got -5',
      ].join('\n'),
    );
    expect(() => renderSwitchChart({ ...PANEL, buckets: [bucket(0, { failed: -1 })] })).toThrow(
      'buckets[0].failed: must be a count of at least 0, got -1',
    );
  });
});

describe('renderSwitchCharts', () => {
  it('stacks one panel per switch in one SVG document', () => {
    const back: SwitchChartPanel = { ...PANEL, title: 'web: green → blue', height: 240 };
    const svg = renderSwitchCharts([PANEL, back]);
    checkWellFormed(svg);
    expect(svg.match(/<svg /g)).toHaveLength(1);
    expect(elements(svg, 'svg')[0]).toMatchObject({ width: '880', height: '560' });
    expect(elements(svg, 'g').map((g) => g.transform)).toEqual(['translate(0,0)', 'translate(0,320)']);
    expect(texts(svg, 'title')).toEqual(['web: blue → green', 'web: green → blue']);
  });

  it('names the panel of a problem, and refuses no panels', () => {
    expect(() => renderSwitchCharts([PANEL, { ...PANEL, height: 10 }])).toThrow('panels[1].height: must be at least 180 px, got 10');
    expect(() => renderSwitchCharts([])).toThrow('panels: must hold at least one panel, got none; pass one panel per switch');
  });

  it('finds malformed XML (the checker itself)', () => {
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow('</svg> at 8 closes nothing open');
    expect(() => checkWellFormed('<svg><text>a & b</text></svg>')).toThrow(/^unescaped text/);
    expect(() => checkWellFormed('<svg a="1" a="2"/>')).toThrow(/^duplicate attribute/);
  });
});
