export {
  type ChartSpec,
  type Marker,
  type Panel,
  renderChartPng,
  renderChartSvg,
  type TimeSeries,
} from './render.ts';
