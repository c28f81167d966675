// A CA and a server certificate per simulated cluster, made at start with the pure-JS
// `selfsigned` package (no openssl binary in the slim image). kubectl only sends bearer tokens
// over TLS, and client-node refuses plain http, so the servers must speak HTTPS.

import { generate } from 'selfsigned';

export interface ClusterTls {
  caCert: string;
  cert: string;
  key: string;
}

export async function makeClusterTls(cluster: string): Promise<ClusterTls> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 365 * 86_400_000);
  const ca = await generate([{ name: 'commonName', value: `${cluster}-ca` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: 'kubernetes.default.svc' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { caCert: ca.cert, cert: server.cert, key: server.private };
}

/**
 * The TLS key exchange groups a kube-apiserver of `version` accepts: its Go toolchain's crypto/tls defaults.
 * Kubernetes 1.33 is the first release built with Go 1.24, which added X25519MLKEM768 (golang/go#69985). Go
 * 1.23 (Kubernetes 1.32) accepts X25519Kyber768Draft00, X25519, P-256, P-384 and P-521; Node's OpenSSL speaks
 * all but the draft, so a client sending X25519MLKEM768 and X25519 key shares gets X25519 from a 1.32 server.
 */
export function apiServerGroups(version: string): string {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const classic = 'X25519:P-256:P-384:P-521';
  return major > 1 || (major === 1 && minor >= 33) ? `X25519MLKEM768:${classic}` : classic;
}
