// The picture of a switch: responses per interval while `pulumi up` moves traffic, blue and green stacked with the
// failures on top in red, and dashed lines where the command started and returned. Hand-written SVG, one panel per
// switch, readable on a white background.
import type { TrafficBucket } from './traffic';

/** A moment worth a vertical line, e.g. "pulumi up starts". */
export interface SwitchChartMarker {
  /** Where, in ms after the start of the first bucket. */
  readonly atMs: number;
  readonly label: string;
}

/** One switch: its buckets (from `buckets()` in ./traffic) and markers. */
export interface SwitchChartPanel {
  readonly title: string;
  readonly buckets: readonly TrafficBucket[];
  /** The interval the buckets were counted over; the y axis reads "responses per <intervalMs> ms". */
  readonly intervalMs: number;
  /** @default none */
  readonly markers?: readonly SwitchChartMarker[];
  /** In px. @default 880 */
  readonly width?: number;
  /** In px. @default 320 */
  readonly height?: number;
}

const DEFAULT_WIDTH = 880;
const DEFAULT_HEIGHT = 320;
const MIN_WIDTH = 240;
const MIN_HEIGHT = 180;
const MARGIN = { top: 40, right: 24, bottom: 62, left: 60 };
const FILL = { blue: '#2563eb', green: '#16a34a', none: '#9ca3af', failed: '#dc2626' } as const;
const LEGEND: ReadonlyArray<{ readonly key: keyof typeof FILL; readonly label: string }> = [
  { key: 'blue', label: 'blue' },
  { key: 'green', label: 'green' },
  { key: 'none', label: 'no color header' },
  { key: 'failed', label: 'failed' },
];
/** Bottom to top: the colors, then the failures above them. */
const STACK = ['blue', 'green', 'none', 'failed'] as const;

/** One panel as a standalone SVG document. */
export function renderSwitchChart(panel: SwitchChartPanel): string {
  return renderSwitchCharts([panel]);
}

/** Several panels, one per switch, stacked vertically in one SVG document. */
export function renderSwitchCharts(panels: readonly SwitchChartPanel[]): string {
  if (panels.length === 0) {
    throw new Error('panels: must hold at least one panel, got none; pass one panel per switch');
  }
  const problems = panels.flatMap((panel, i) => panelProblems(panel, panels.length === 1 ? '' : `panels[${i}].`));
  if (problems.length > 0) {
    throw new Error(problems.join('\n'));
  }
  const width = maxOf(panels.map((p) => p.width ?? DEFAULT_WIDTH));
  const height = panels.reduce((sum, p) => sum + (p.height ?? DEFAULT_HEIGHT), 0);
  let y = 0;
  const groups = panels.map((panel) => {
    const group = `<g transform="translate(0,${y})">\n${renderPanel(panel)}</g>\n`;
    y += panel.height ?? DEFAULT_HEIGHT;
    return group;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#111827">\n` +
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n` +
    groups.join('') +
    '</svg>\n'
  );
}

function panelProblems(panel: SwitchChartPanel, prefix: string): string[] {
  const problems: string[] = [];
  const check = (key: string, value: number | undefined, ok: (v: number) => boolean, wanted: string) => {
    if (value !== undefined && (!Number.isFinite(value) || !ok(value))) {
      problems.push(`${prefix}${key}: must be ${wanted}, got ${value}`);
    }
  };
  check('intervalMs', panel.intervalMs, (v) => v > 0, 'a positive number of ms');
  check('width', panel.width, (v) => v >= MIN_WIDTH, `at least ${MIN_WIDTH} px`);
  check('height', panel.height, (v) => v >= MIN_HEIGHT, `at least ${MIN_HEIGHT} px`);
  panel.buckets.forEach((bucket, i) => {
    check(`buckets[${i}].startMs`, bucket.startMs, (v) => v >= 0, 'at least 0 ms');
    for (const key of STACK) {
      check(`buckets[${i}].${key}`, bucket[key], (v) => v >= 0, 'a count of at least 0');
    }
  });
  (panel.markers ?? []).forEach((marker, i) => check(`markers[${i}].atMs`, marker.atMs, (v) => v >= 0, 'at least 0 ms after the first bucket'));
  return problems;
}

function renderPanel(panel: SwitchChartPanel): string {
  const width = panel.width ?? DEFAULT_WIDTH;
  const height = panel.height ?? DEFAULT_HEIGHT;
  const markers = panel.markers ?? [];
  const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
  const spanMs = maxOf([panel.intervalMs, ...panel.buckets.map((b) => b.startMs + panel.intervalMs), ...markers.map((m) => m.atMs)]);
  const xOf = (ms: number) => plot.x + (ms / spanMs) * plot.w;
  const highest = maxOf(panel.buckets.map(total));
  const yStep = niceStep(Math.max(1, highest) / 5, 1);
  // One step of headroom above the highest bar, where the marker labels go.
  const yMax = (Math.floor(highest / yStep) + 1) * yStep;
  const heightOf = (count: number) => (count / yMax) * plot.h;
  const out: string[] = [];

  out.push(`<text class="title" x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(panel.title)}</text>`);

  for (let v = 0; v <= yMax; v += yStep) {
    const y = num(plot.y + plot.h - heightOf(v));
    out.push(`<line class="grid" x1="${plot.x}" y1="${y}" x2="${plot.x + plot.w}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(`<text class="y-tick" x="${plot.x - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${v}</text>`);
  }
  const yTitleY = plot.y + plot.h / 2;
  out.push(
    `<text class="y-title" x="16" y="${num(yTitleY)}" text-anchor="middle" transform="rotate(-90 16 ` +
      `${num(yTitleY)})">${escapeXml(`responses per ${num(panel.intervalMs)} ms`)}</text>`,
  );

  const barWidth = (panel.intervalMs / spanMs) * plot.w;
  const gap = barWidth > 4 ? 1 : 0;
  for (const bucket of panel.buckets) {
    let base = plot.y + plot.h;
    const x = xOf(bucket.startMs);
    const seconds = `${num(bucket.startMs / 1000)}–${num((bucket.startMs + panel.intervalMs) / 1000)} s`;
    for (const key of STACK) {
      if (bucket[key] === 0) {
        continue;
      }
      const h = heightOf(bucket[key]);
      base -= h;
      out.push(
        `<rect class="bar ${key}" x="${num(x + gap / 2)}" y="${num(base)}" width="${num(barWidth - gap)}" height="${num(h)}" fill="${FILL[key]}">` +
          `<title>${escapeXml(`${seconds}: ${bucket[key]} ${key === 'none' ? 'without color' : key}`)}</title></rect>`,
      );
    }
  }

  const xStep = niceStep(spanMs / 1000 / 8, 0);
  out.push(`<line class="axis" x1="${plot.x}" y1="${plot.y + plot.h}" x2="${plot.x + plot.w}" y2="${plot.y + plot.h}" stroke="#374151"/>`);
  out.push(`<line class="axis" x1="${plot.x}" y1="${plot.y}" x2="${plot.x}" y2="${plot.y + plot.h}" stroke="#374151"/>`);
  for (let i = 0; i * xStep <= spanMs / 1000 + 1e-9; i++) {
    const x = num(xOf(i * xStep * 1000));
    out.push(`<line class="x-tick" x1="${x}" y1="${plot.y + plot.h}" x2="${x}" y2="${plot.y + plot.h + 5}" stroke="#374151"/>`);
    out.push(`<text class="x-tick-label" x="${x}" y="${plot.y + plot.h + 18}" text-anchor="middle">${num(i * xStep)}</text>`);
  }
  out.push(`<text class="x-title" x="${num(plot.x + plot.w / 2)}" y="${plot.y + plot.h + 34}" text-anchor="middle">seconds from start</text>`);

  // Markers: dashed lines, labels staggered so that close markers stay readable, haloed to read over bars.
  markers.forEach((marker, i) => {
    const x = num(xOf(marker.atMs));
    const right = xOf(marker.atMs) > plot.x + plot.w * 0.7;
    out.push(
      `<line class="marker" x1="${x}" y1="${plot.y}" x2="${x}" y2="${plot.y + plot.h}" stroke="#111827" stroke-width="1.5" stroke-dasharray="5 4"/>`,
    );
    out.push(
      `<text class="marker-label" x="${num(xOf(marker.atMs) + (right ? -4 : 4))}" y="${plot.y + 12 + 14 * (i % 3)}" ` +
        `text-anchor="${right ? 'end' : 'start'}" ` +
        `stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(marker.label)}</text>`,
    );
  });

  // Legend with totals, below the x axis; "no color header" only when some response lacked the header.
  const totals = Object.fromEntries(STACK.map((key) => [key, panel.buckets.reduce((sum, b) => sum + b[key], 0)])) as Record<
    keyof typeof FILL,
    number
  >;
  let legendX = plot.x;
  const legendY = height - 16;
  for (const item of LEGEND.filter((i) => i.key !== 'none' || totals.none > 0)) {
    const label = `${item.label} (${totals[item.key]})`;
    out.push(`<rect class="legend-swatch" x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${FILL[item.key]}"/>`);
    out.push(`<text class="legend-label" x="${legendX + 17}" y="${legendY}">${escapeXml(label)}</text>`);
    legendX += 17 + label.length * 7 + 18;
  }
  return out.map((line) => `${line}\n`).join('');
}

/** The largest value, 0 for none; a loop, not a spread, whatever the number of buckets. */
function maxOf(values: readonly number[]): number {
  return values.reduce((max, v) => Math.max(max, v), 0);
}

function total(bucket: TrafficBucket): number {
  return bucket.blue + bucket.green + bucket.none + bucket.failed;
}

/** The smallest 1, 2 or 5 times a power of ten that is at least `rough` (> 0), and at least `min`. */
function niceStep(rough: number, min: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  return Math.max(step, min);
}

/** A coordinate or label: at most two decimals, no float noise. */
function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Text and attribute values escaped for XML. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
