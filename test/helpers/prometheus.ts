// A real Prometheus for tests (Debian's `prometheus`; .ci/run installs it): the demo's launcher.
export {
  type PrometheusOptions,
  PrometheusUnavailableError,
  type RunningPrometheus,
  startPrometheus,
} from '../../src/demo/prometheus.ts';
