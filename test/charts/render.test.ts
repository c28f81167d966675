import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChartSpec, renderChartPng, renderChartSvg } from '../../src/charts/index.ts';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const line = (from: number, n: number, f: (i: number) => number | null) =>
  Array.from({ length: n }, (_, i) => [from + i * 5000, f(i)] as const);

/** A five-minute window at one point per 5 s, three versions: the size of a real verification chart. */
const SPEC: ChartSpec = {
  title: 'reviews-v3 on icp: reviews',
  subtitle: 'reverted: reviews v3: 5xx 30.0 % > 5.0 %',
  panels: [
    {
      title: 'Request rate',
      unit: 'req/s',
      series: ['v1', 'v2', 'v3'].map((v, k) => ({
        name: v,
        points: line(T0, 90, (i) => 10 + k + Math.sin(i)),
      })),
    },
    {
      title: '5xx share',
      unit: '%',
      series: [{ name: 'v3', points: line(T0, 90, (i) => (i > 30 ? 30 : null)) }],
    },
    { title: 'p99 latency', unit: 'ms', series: [] },
  ],
  markers: [
    { at: T0 + 150_000, label: 'applied reviews-v3' },
    { at: T0 + 300_000, label: 'reverted', color: '#d62728' },
  ],
};

describe('charts rendered without a browser', () => {
  it('draws every panel, series name and marker into the SVG', () => {
    const svg = renderChartSvg(SPEC);
    for (const text of [
      'Request rate (req/s)',
      '5xx share (%)',
      'p99 latency (ms)',
      'applied reviews-v3',
      'reverted',
      'v3',
    ])
      assert.ok(svg.includes(text), `the SVG shows ${text}`);
  });

  it('is a PNG of at most 200 KB', () => {
    const png = renderChartPng(SPEC);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length <= 200 * 1024, `${png.length} bytes`);
    // Width and height from the IHDR chunk: 960 wide, three panels high.
    assert.equal(png.readUInt32BE(16), 960);
    assert.ok(png.readUInt32BE(20) > 600);
  });

  it('escapes text from outside into the SVG', () => {
    const svg = renderChartSvg({ ...SPEC, title: '<script>alert(1)</script>' });
    assert.ok(!svg.includes('<script>'));
  });
});
