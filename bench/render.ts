// `npm run bench`: how long rendering takes, as ratios against a baseline measured in the same run.
//  1. the prod stack (config parse + constructs + validation + render) vs a bare cdk8s-plus chart with the
//     same number of objects;
//  2. 1, 10 and 50 services in one chart, relative to 1 service: how cost grows.
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BlueGreenApp, renderChart } from '../lib';
import { synthesize } from '../stacks/synthesize';
import { readStackFile } from '../stacks/stack-file';

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 30);

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time of `fn` in milliseconds, after warm-up runs. */
function measure(fn: () => unknown): number {
  for (let i = 0; i < 5; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function renderProd(): number {
  return synthesize(readStackFile(ROOT, 'prod'), 'prod').objects.length;
}

function renderBare(objects: number): number {
  const chart = new Chart(new App(), 'bare', { namespace: 'bare' });
  for (let i = 0; i < objects; i++) {
    new kplus.Deployment(chart, `d${i}`, {
      containers: [{ image: 'registry.example.com/acme/web:1.0.0', portNumber: 8080, securityContext: { user: 10001 } }],
    });
  }
  return chart.toJson().length;
}

function renderServices(count: number): number {
  const chart = new Chart(new App(), 'many', { namespace: 'many' });
  for (let i = 0; i < count; i++) {
    new BlueGreenApp(chart, `app-${i}`, {
      name: `svc-${i}`,
      activeColor: i % 2 === 0 ? 'blue' : 'green',
      blue: { image: 'registry.example.com/acme/web:1.0.0' },
      green: { image: 'registry.example.com/acme/web:1.1.0' },
      ingress: { host: `svc-${i}.example.com` },
    });
  }
  return renderChart(chart).length;
}

const objects = renderProd();
const prod = measure(renderProd);
const bare = measure(() => renderBare(objects));
console.log(`runs per figure: ${RUNS} (median)`);
console.log(
  `prod stack: ${objects} objects in ${prod.toFixed(2)} ms; bare cdk8s-plus chart with ${objects} Deployments: ${bare.toFixed(2)} ms; ratio ` +
    `${(prod / bare).toFixed(2)}x`,
);
const one = measure(() => renderServices(1));
for (const count of [1, 10, 50]) {
  const time = count === 1 ? one : measure(() => renderServices(count));
  console.log(
    `${String(count).padStart(2)} services: ${time.toFixed(2)} ms (${(time / one).toFixed(1)}x one service, ${(time / one / count).toFixed(2)}x ` +
      `per service)`,
  );
}
