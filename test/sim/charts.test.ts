import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Json } from '../../src/sim/cluster/store.ts';
import { renderChart } from '../../src/sim/scenario/charts.ts';
import { renderGoTemplate } from '../../src/sim/scenario/go-template.ts';
import { SCENARIO_DIR } from '../../src/sim/scenario/load.ts';

describe('Go template subset', () => {
  it('trims whitespace on the marked side only', () => {
    assert.equal(renderGoTemplate('a  \n  {{- "b" }}  \n', {}), 'ab  \n');
    assert.equal(renderGoTemplate('a {{ "b" -}}  \n c', {}), 'a bc');
  });

  it('evaluates if/else on Helm truthiness', () => {
    const t = '{{ if .x }}yes{{ else }}no{{ end }}';
    assert.equal(renderGoTemplate(t, { x: 'ip' }), 'yes');
    assert.equal(renderGoTemplate(t, { x: '' }), 'no');
    assert.equal(renderGoTemplate(t, { x: false }), 'no');
    assert.equal(renderGoTemplate(t, {}), 'no');
  });

  it('supports variables, printf, default, replace and helper templates', () => {
    const t =
      '{{- $h := printf "istio-pilot.%s" .ns }}{{ $a := .addr | default $h }}{{ $a }}|{{ .v | replace "+" "_" }}|{{ template "n" . }}';
    assert.equal(
      renderGoTemplate(t, { ns: 'istio-system', addr: '', v: '1.0+x' }, { n: () => 'istio-remote' }),
      'istio-pilot.istio-system|1.0_x|istio-remote',
    );
    assert.equal(renderGoTemplate(t, { ns: 'x', addr: '10.1.0.9', v: '' }, { n: () => '' }), '10.1.0.9||');
  });
});

describe('istio-remote 1.0.2 chart render', () => {
  const chart = join(SCENARIO_DIR, 'istio-remote-1.0.2');
  const release = { name: 'istio-remote', namespace: 'istio-system', service: 'Tiller' };
  const ips = {
    'global.remotePilotAddress': '10.1.0.10',
    'global.remotePolicyAddress': '10.1.0.11',
    'global.remoteTelemetryAddress': '10.1.0.12',
    'global.remoteZipkinAddress': '10.1.0.13',
    'global.proxy.envoyStatsd.enabled': true,
    'global.proxy.envoyStatsd.host': '10.1.0.14',
  };

  it('writes the control-plane pod IPs into the istio ConfigMap as the istio.io install command does', () => {
    const [cm] = renderChart(chart, ['configmap.yaml'], release, ips);
    assert.ok(cm);
    assert.deepEqual(cm.metadata, {
      name: 'istio',
      namespace: 'istio-system',
      labels: {
        app: 'istio-remote',
        chart: 'istio-remote-1.0.1',
        release: 'istio-remote',
        heritage: 'Tiller',
      },
    });
    const meshText = (cm as Json).data.mesh;
    assert.match(meshText, /^# Set the following variable to true to disable policy checks/);
    const mesh = parse(meshText);
    assert.equal(mesh.mixerCheckServer, '10.1.0.11:15004');
    assert.equal(mesh.mixerReportServer, '10.1.0.12:15004');
    assert.equal(mesh.defaultConfig.discoveryAddress, '10.1.0.10:15007');
    assert.equal(mesh.defaultConfig.zipkinAddress, '10.1.0.13:9411');
    assert.equal(mesh.defaultConfig.statsdUdpAddress, '10.1.0.14:9125');
    assert.equal(mesh.defaultConfig.controlPlaneAuthPolicy, 'NONE');
  });

  it('follows the template for mTLS and for remotePilotCreateSvcEndpoint', () => {
    const [mtls] = renderChart(chart, ['configmap.yaml'], release, {
      ...ips,
      'global.controlPlaneSecurityEnabled': true,
    });
    assert.equal(parse((mtls as Json).data.mesh).defaultConfig.discoveryAddress, '10.1.0.10:15005');
    const svc = { ...ips, 'global.remotePilotCreateSvcEndpoint': true };
    const [cm] = renderChart(chart, ['configmap.yaml'], release, svc);
    assert.equal(
      parse((cm as Json).data.mesh).defaultConfig.discoveryAddress,
      'istio-pilot.istio-system:15007',
    );
    const [service, endpoints] = renderChart(chart, ['service.yaml', 'endpoints.yaml'], release, svc);
    assert.equal((service as Json).spec.clusterIP, 'None');
    assert.deepEqual((endpoints as Json).subsets[0]?.addresses, [{ ip: '10.1.0.10' }]);
    assert.deepEqual(renderChart(chart, ['endpoints.yaml'], release, ips), []);
  });

  it('leaves out what the values leave out', () => {
    const [cm] = renderChart(chart, ['configmap.yaml'], release, {
      'global.remotePilotAddress': '10.1.0.10',
    });
    const mesh = parse((cm as Json).data.mesh);
    assert.equal(mesh.mixerCheckServer, undefined);
    assert.equal(mesh.defaultConfig.zipkinAddress, undefined);
    assert.equal(mesh.defaultConfig.statsdUdpAddress, undefined);
  });
});
