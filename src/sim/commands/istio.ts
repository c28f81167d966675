// Istio's own binaries as exec sees them: `pilot-discovery request` in pilot's discovery container
// (pilot/cmd/pilot-discovery/request.go: an HTTP request to pilot's monitoring port on loopback),
// `pilot-agent request` in a proxy container (pilot/cmd/pilot-agent/request.go: the Envoy admin port),
// and `cat` of the certificate files Istio 1.0 mounts at /etc/certs from the `istio.<sa>` secret.

import type { Json } from '../cluster/store.ts';
import { isIstio10 } from '../istio/control-plane.ts';
import { type Program, stderr, stdout } from './types.ts';

const notFound = (argv0: string): Program =>
  async function* missing() {
    yield stderr(`sh: ${argv0}: not found\n`);
    return 127;
  };

function container(ctx: Parameters<Program>[1]): Json | undefined {
  return ((ctx.pod as Json).spec?.containers as Json[] | undefined)?.find((c) => c.name === ctx.container);
}

const isPilotImage = (image: string | undefined) => /\/pilot:/.test(image ?? '');
const isProxyImage = (image: string | undefined) => /\/proxyv2:|\/proxy_debug:/.test(image ?? '');

export const pilotDiscovery: Program = async function* (args, ctx) {
  const image = container(ctx)?.image;
  if (!isPilotImage(image)) return yield* notFound('pilot-discovery')(args, ctx);
  const [verb, method, path] = args;
  if (verb !== 'request' || method === undefined || path === undefined) {
    yield stderr(
      'Error: unknown command or missing arguments\nUsage:\n  pilot-discovery request <method> <path> [flags]\n',
    );
    return 1;
  }
  if (method !== 'GET' || path.replace(/\?.*$/, '') !== '/debug/syncz') {
    yield stdout('404 page not found\n');
    return 0;
  }
  const rows = ctx.controlPlane.syncz(ctx.cluster, ctx.pod);
  // encoding/json writes a nil slice as null.
  yield stdout(rows && rows.length > 0 ? JSON.stringify(rows, null, 2) : 'null');
  return 0;
};

function certsText(root: { serial: string; days: number }, chain: { serial: string; days: number }): string {
  // Envoy 1.0 admin.cc: one block per TLS context, tabs and all.
  return `{\n\t"ca_cert": "Certificate Path: /etc/certs/root-cert.pem, Serial Number: ${root.serial}, Days until Expiration: ${root.days}",\n\t"cert_chain": "Certificate Path: /etc/certs/cert-chain.pem, Serial Number: ${chain.serial}, Days until Expiration: ${chain.days}"\n}\n`;
}

async function held(ctx: Parameters<Program>[1]) {
  const { X509Certificate } = await import('node:crypto');
  const pems = await ctx.controlPlane.certificates(ctx.cluster, ctx.pod);
  const describe = (pem: string) => {
    const x = new X509Certificate(pem);
    const notAfter = Date.parse(x.validTo);
    return {
      serial: x.serialNumber.toLowerCase(),
      days: Math.floor((notAfter - ctx.now()) / 86_400_000),
      validFrom: new Date(Date.parse(x.validFrom)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      expirationTime: new Date(notAfter).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  };
  return { pems, root: describe(pems.root), chain: describe(pems.chain) };
}

export const pilotAgent: Program = async function* (args, ctx) {
  const image = container(ctx)?.image;
  if (!isProxyImage(image)) return yield* notFound('pilot-agent')(args, ctx);
  const [verb, method, path] = args;
  if (verb !== 'request' || method === undefined || path === undefined) {
    yield stderr('Error: unknown command or missing arguments\n');
    return 1;
  }
  if (method !== 'GET' || path.replace(/^\//, '') !== 'certs') {
    yield stdout('invalid path\n');
    return 0;
  }
  const { root, chain } = await held(ctx);
  if (isIstio10(image)) {
    // Envoy lists TLS contexts; with mutual TLS off (istio-demo.yaml's default) a sidecar has none.
    yield stdout(ctx.controlPlane.mutualTls(ctx.cluster) ? certsText(root, chain) : '');
    return 0;
  }
  const sa = (ctx.pod as Json).spec?.serviceAccountName ?? 'default';
  const detail = (c: typeof root, san: object[]) => ({
    path: '<inline>',
    serial_number: c.serial,
    subject_alt_names: san,
    days_until_expiration: String(Math.max(0, c.days)),
    valid_from: c.validFrom,
    expiration_time: c.expirationTime,
  });
  const body = {
    certificates: [
      {
        ca_cert: [detail(root, [])],
        cert_chain: [
          detail(chain, [{ uri: `spiffe://cluster.local/ns/${ctx.pod.metadata.namespace}/sa/${sa}` }]),
        ],
      },
    ],
  };
  yield stdout(JSON.stringify(body, null, 1));
  return 0;
};

const CERT_FILES: Record<string, 'root' | 'chain'> = {
  '/etc/certs/root-cert.pem': 'root',
  '/etc/certs/cert-chain.pem': 'chain',
};

export const cat: Program = async function* (args, ctx) {
  let code = 0;
  for (const file of args) {
    const which = CERT_FILES[file];
    const image = container(ctx)?.image;
    // Only 1.0 sidecars mount the istio.<sa> secret there; modern ones get certificates over SDS.
    if (which && ctx.container === 'istio-proxy' && isIstio10(image)) {
      const { pems } = await held(ctx);
      yield stdout(which === 'root' ? pems.root : pems.chain);
    } else if (file === '/etc/certs/key.pem' && ctx.container === 'istio-proxy' && isIstio10(image)) {
      // Readable, as in a real sidecar; counted so tests can prove meshops never asks for it.
      ctx.controlPlane.keyReads += 1;
      yield stdout('-----BEGIN EC PRIVATE KEY-----\n(simulated)\n-----END EC PRIVATE KEY-----\n');
    } else {
      yield stderr(`cat: ${file}: No such file or directory\n`);
      code = 1;
    }
  }
  return code;
};
