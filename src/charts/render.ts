import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';

/**
 * Time-series charts as PNG, rendered in the process (ECharts' server-side SVG, rasterised by resvg):
 * no browser, so a worker can attach a chart to a Slack thread. Panels share the time axis and are
 * stacked; markers are vertical lines across every panel (a change, a revert).
 */

export interface TimeSeries {
  name: string;
  /** [epoch ms, value]; null leaves a gap. */
  points: readonly (readonly [number, number | null])[];
}

export interface Panel {
  title: string;
  /** Shown after each axis value: "req/s", "%", "ms". */
  unit: string;
  series: readonly TimeSeries[];
}

export interface Marker {
  at: number;
  label: string;
  color?: string;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  panels: readonly Panel[];
  markers?: readonly Marker[];
  width?: number;
  panelHeight?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];
const TOP = 70;
const GAP = 48;

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** One color per series name across all panels, so "v3" is the same line in each. */
function colorsOf(panels: readonly Panel[]): Map<string, string> {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  return new Map(names.map((n, i) => [n, PALETTE[i % PALETTE.length]!]));
}

export function renderChartSvg(spec: ChartSpec): string {
  const width = spec.width ?? 960;
  const panelHeight = spec.panelHeight ?? 170;
  const height = TOP + spec.panels.length * (panelHeight + GAP) + 10;
  const colors = colorsOf(spec.panels);
  const all = spec.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([t]) => t)));
  const marks = spec.markers ?? [];
  const min = Math.min(...all, ...marks.map((m) => m.at));
  const max = Math.max(...all, ...marks.map((m) => m.at));
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'DejaVu Sans, sans-serif' },
    title: {
      text: spec.title,
      subtext: spec.subtitle ?? '',
      left: 12,
      top: 6,
      textStyle: { fontSize: 16 },
      subtextStyle: { fontSize: 12, color: '#555' },
    },
    legend: { top: 10, right: 16, data: [...colors.keys()] },
    grid: spec.panels.map((_, i) => ({
      left: 70,
      right: 24,
      top: TOP + i * (panelHeight + GAP) + 22,
      height: panelHeight - 22,
    })),
    xAxis: spec.panels.map((_, i) => ({
      type: 'time',
      gridIndex: i,
      min: Number.isFinite(min) ? min : undefined,
      max: Number.isFinite(max) ? max : undefined,
      axisLabel: { formatter: (v: number) => clock(v), fontSize: 10 },
      splitLine: { show: false },
    })),
    yAxis: spec.panels.map((p, i) => ({
      type: 'value',
      gridIndex: i,
      name: `${p.title} (${p.unit})`,
      nameLocation: 'end',
      nameTextStyle: { align: 'left', fontSize: 12, fontWeight: 'bold' },
      axisLabel: { fontSize: 10 },
    })),
    series: spec.panels.flatMap((p, i): Record<string, unknown>[] => {
      const lines = p.series.map((s, j) => ({
        type: 'line',
        name: s.name,
        xAxisIndex: i,
        yAxisIndex: i,
        showSymbol: false,
        connectNulls: false,
        lineStyle: { width: 2 },
        color: colors.get(s.name),
        data: s.points.map(([t, v]) => [t, v]),
        ...(j === 0 ? { markLine: markLine(marks, i === 0) } : {}),
      }));
      // A panel without data still shows the markers.
      return lines.length > 0
        ? lines
        : [
            {
              type: 'line',
              name: '',
              xAxisIndex: i,
              yAxisIndex: i,
              data: [],
              markLine: markLine(marks, i === 0),
            },
          ];
    }),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** The markers' names are written once, above the top panel; below it the lines alone line the panels up. */
function markLine(marks: readonly Marker[], labelled: boolean) {
  return {
    symbol: 'none',
    silent: true,
    label: labelled
      ? { formatter: '{b}', position: 'end', fontSize: 11, fontWeight: 'bold' }
      : { show: false },
    data: marks.map((m) => ({
      name: m.label,
      xAxis: m.at,
      lineStyle: { color: m.color ?? '#444', type: 'dashed', width: 1.5 },
      label: { color: m.color ?? '#444' },
    })),
  };
}

export function renderChartPng(spec: ChartSpec): Buffer {
  const svg = renderChartSvg(spec);
  return Buffer.from(
    new Resvg(svg, {
      background: '#ffffff',
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng(),
  );
}
