// Routing verification against a real Prometheus (Debian's `prometheus`, scraping the simulated mesh
// every second), twice: with meshops' production defaults (routing.verify: window 5m, interval 30s), and
// scaled down (window 6s, interval 2s) so that 20 healthy windows fit in a run (20 × 5 min would take 100 min):
// - healthy: `reviews-v3` applied and approved, v3 healthy, over the whole window: reverts counted;
// - broken: v3 answers 503 to 30 %: reverted or not, and the time from the first scrape that carried the
//   breach (the first scrape after the change was written) to the revert written on the primary;
// - the chart: render time and PNG size for a production-sized window (5 min, three versions).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderChartPng } from '../../src/charts/index.ts';
import { onPath } from '../../src/demo/redis.ts';
import { startPrometheus } from '../helpers/prometheus.ts';
import { waitFor } from '../helpers/wait.ts';
import { ALICE, BOB, presetSpec, startWorld, type World } from '../mesh/routing/world.ts';
import { machine, percentile, writeSection } from './report.ts';

const RUNS = 20;

interface Setup {
  name: string;
  /** routing.verify as configured; none: the production defaults. */
  verify?: { window: string; interval: string };
  windowS: number;
  intervalS: number;
  healthyRuns: number;
}

const PRODUCTION: Setup = { name: 'production', windowS: 300, intervalS: 30, healthyRuns: 1 };
const SCALED: Setup = {
  name: 'scaled',
  verify: { window: '6s', interval: '2s' },
  windowS: 6,
  intervalS: 2,
  healthyRuns: RUNS,
};

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Prometheus scrapes the mesh through this, so the bench knows when each scrape was answered. */
async function scrapeRecorder(upstream: string) {
  const times: number[] = [];
  const server = createServer(async (_req, res) => {
    const body = await fetch(upstream).then((r) => r.text());
    times.push(Date.now());
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    times,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// Two operators take turns: one would hit access.rateLimit (10 commands a minute) with 40 changes.
const OPERATORS = [ALICE, 'U0ERIN'];

async function applyAndApprove(w: World, channel: string, run: number): Promise<string> {
  await w.h.command('route apply reviews-v3', { user: OPERATORS[run % 2]!, channel });
  await w.h.waitForVerdict(channel, '/mesh route apply reviews-v3');
  const { id } = await w.approval(channel);
  await w.approve(channel, BOB);
  return id;
}

function chartFigures() {
  const t0 = Date.UTC(2026, 11, 3, 10);
  const points = (k: number) =>
    Array.from({ length: 120 }, (_, i) => [t0 + i * 3750, 10 + k + Math.sin(i / 5)] as const);
  const versions = ['v1', 'v2', 'v3'];
  const spec = {
    title: 'reviews-v3 on icp: reviews',
    subtitle: 'reverted: reviews v3: 5xx 30.0 % > 5.0 % · requested by U0ALICE, approved by U0BOB',
    panels: ['Request rate', '5xx share', 'p99 latency'].map((title, p) => ({
      title,
      unit: ['req/s', '%', 'ms'][p]!,
      series: versions.map((name, k) => ({ name, points: points(k + p) })),
    })),
    markers: [
      { at: t0 + 150_000, label: 'applied reviews-v3' },
      { at: t0 + 300_000, label: 'reverted', color: '#d62728' },
    ],
  };
  renderChartPng(spec); // warm-up: module and font loading
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    size = renderChartPng(spec).length;
    times.push(performance.now() - start);
  }
  return { times: sorted(times), size };
}

interface Figures {
  setup: Setup;
  healthyReverts: number;
  reverted: number;
  /** First scrape carrying the breach → revert written, per reverted run, sorted. */
  detect: number[];
}

async function measure(setup: Setup): Promise<Figures & { promVersion: string }> {
  const w = await startWorld(`bench-verify-${setup.name}`, setup.verify ? { verify: setup.verify } : {});
  const recorder = await scrapeRecorder(w.sim.metrics.url);
  const prom = await startPrometheus({ targets: [recorder.target], scrapeInterval: '1s' });
  w.sim.connectService('icp', 'istio-system', 'prometheus', 9090, prom.url);
  // The reviews VirtualService's writes on the primary, as the API server stored them.
  const writes: { at: number; v3: boolean }[] = [];
  w.sim.clusters.get('icp')!.state.store.onChange((e) => {
    if (e.object.metadata.name !== 'reviews' || !JSON.stringify(e.object).includes('"subset"')) return;
    writes.push({
      at: Date.now(),
      v3: JSON.stringify((e.object as { spec?: unknown }).spec).includes('"v3"'),
    });
  });
  const verdictWithin = (setup.windowS + setup.intervalS + 30) * 1000;
  try {
    // A whole baseline window of traffic before the first change: the baseline reads the window before it.
    await new Promise((r) => setTimeout(r, (setup.windowS + 2) * 1000));
    let healthyReverts = 0;
    for (let i = 0; i < setup.healthyRuns; i++) {
      const id = await applyAndApprove(w, `C0HEALTHY${i}`, i);
      await waitFor(
        'the verdict',
        async () => (await w.audit()).find((e) => e.action === 'verified' && e.request === id),
        verdictWithin,
      );
      if ((await w.audit()).some((e) => e.action === 'reverted' && e.request === id)) healthyReverts += 1;
      await w.editVs('icp', 'reviews', presetSpec('all-v1'));
      await new Promise((r) => setTimeout(r, 1000));
    }
    w.sim.setTraffic('reviews', 'v3', { errorRate: 0.3 });
    let reverted = 0;
    const detect: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const before = writes.length;
      const id = await applyAndApprove(w, `C0BROKEN${i}`, i);
      const entry = await waitFor(
        'a verdict',
        async () =>
          (await w.audit()).find(
            (e) =>
              e.request === id &&
              (e.action === 'reverted' || e.action === 'verified' || e.action === 'failed'),
          ),
        verdictWithin,
      );
      if (entry.action !== 'reverted') continue;
      reverted += 1;
      const applied = writes.slice(before).find((x) => x.v3);
      const back = writes.slice(before).find((x) => !x.v3 && applied && x.at >= applied.at);
      const firstScrape = recorder.times.find((t) => applied && t > applied.at);
      if (back && firstScrape) detect.push(back.at - firstScrape);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const build = (await fetch(`${prom.url}/api/v1/status/buildinfo`).then((r) => r.json())) as {
      data: { version: string };
    };
    return { setup, healthyReverts, reverted, detect: sorted(detect), promVersion: build.data.version };
  } finally {
    await w.close();
    await prom.stop();
    await recorder.close();
  }
}

const windowText = (s: Setup) =>
  s.verify ? `\`window: ${s.verify.window}\`, \`interval: ${s.verify.interval}\`` : 'defaults: 5 min / 30 s';

function rows(f: Figures): string {
  const tag = f.setup.verify ? `scaled (${windowText(f.setup)})` : `**production** (${windowText(f.setup)})`;
  const d = f.detect;
  return [
    `| ${tag} | healthy \`reviews-v3\` over the whole window | ${f.setup.healthyRuns} | ${f.healthyReverts} | |`,
    `| ${tag} | \`reviews-v3\` with v3 answering 503 to 30 % | ${RUNS} | ${f.reverted} | median ${s(percentile(d, 50))}, max ${s(d.at(-1) ?? Number.NaN)} (target ≤ ${f.setup.intervalS + 2} s) |`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!onPath('prometheus')) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const production = await measure(PRODUCTION);
  const scaled = await measure(SCALED);
  const chart = chartFigures();
  const report = `
Routing verification on a real Prometheus ${production.promVersion}
(Debian's package) scraping the seed simulation's telemetry every 1 s, read by meshops through the primary's
API server proxy, with the production thresholds (5xx > 5 %, p99 > 2× the baseline, 20 requests minimum).
The **production** rows run \`routing.verify\` as shipped (window 5 min, a reading every 30 s; a whole window
of traffic before the first change, so the first baseline is complete). A healthy change there takes the
whole 5 min window, so 20 of them would take 100 min: the 20-run healthy figure is the **scaled** row
(\`window: 6s\`, \`interval: 2s\`, judged by the same thresholds and code); the production healthy row is
${PRODUCTION.healthyRuns} full window. Machine: ${machine()}.

| setup | case | runs | reverted | first scrape carrying the breach → revert written |
| --- | --- | --- | --- | --- |
${rows(production)}
${rows(scaled)}

The target for the time to revert is one \`interval\` + 2 s: a breach is seen at the next reading, which the
interval paces. Chart (three panels × three versions × 120 points, change and revert marked), ECharts SSR SVG
rasterised by resvg, 20 renders after one warm-up: median ${chart.times[10]!.toFixed(0)} ms, max ${chart.times.at(-1)!.toFixed(0)} ms
(target ≤ 300 ms); PNG ${(chart.size / 1024).toFixed(0)} KB (target ≤ 200 KB).

Command: \`npm exec -- node test/bench/verify.bench.ts\` (about 25 min).
`;
  console.log(report);
  writeSection('Routing verification', report);
}

await main();
