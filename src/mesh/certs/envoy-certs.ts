import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

/**
 * How meshops reads a proxy's certificates, by exec into its istio-proxy container (argv, never a shell):
 * Envoy's admin `/certs` through pilot-agent (127.0.0.1:15000, Istio 1.0 and later alike), and on Istio 1.0
 * sidecars whose Envoy holds no TLS context the two public files Citadel mounts. Never key.pem.
 */
export const PROXY_CONTAINER = 'istio-proxy';
export const CERTS_ARGV = ['pilot-agent', 'request', 'GET', 'certs'] as const;
export const ROOT_PEM_ARGV = ['cat', '/etc/certs/root-cert.pem'] as const;
export const CHAIN_PEM_ARGV = ['cat', '/etc/certs/cert-chain.pem'] as const;

/**
 * What a proxy holds, read from Envoy's admin `/certs` (or, when that lists no TLS context, from the
 * public PEM files the sidecar mounts). Only certificates: never a private key.
 */
export interface HeldCert {
  serial: string;
  /** Whole days until notAfter as the source counts them; negative once expired when known. */
  days: number;
  /** RFC 3339 notAfter when the source gives it (modern `/certs`, PEM files). */
  expires?: string;
  /** Whole days from notBefore to notAfter, when the source gives both. */
  lifetimeDays?: number;
}

export interface ProxyCerts {
  /** The root (CA) certificates the proxy trusts, one per distinct serial. */
  roots: HeldCert[];
  /** The workload certificate (first of the chain), the one expiring soonest if several. */
  workload?: HeldCert;
}

export type CertsReading =
  | { kind: 'certs'; certs: ProxyCerts; source: 'envoy-1.0' | 'envoy' | 'pem' }
  /** Envoy answered but holds no TLS context (Istio 1.0 with mutual TLS off). */
  | { kind: 'empty' }
  | { kind: 'unparsed'; reason: string };

function distinct(certs: HeldCert[]): HeldCert[] {
  const bySerial = new Map<string, HeldCert>();
  for (const c of certs) {
    const seen = bySerial.get(c.serial);
    if (!seen || c.days < seen.days) bySerial.set(c.serial, c);
  }
  return [...bySerial.values()];
}

const soonest = (certs: HeldCert[]) =>
  certs.reduce<HeldCert | undefined>((a, c) => (a === undefined || c.days < a.days ? c : a), undefined);

function collect(roots: HeldCert[], chains: HeldCert[]): CertsReading {
  if (roots.length === 0 && chains.length === 0) return { kind: 'empty' };
  const workload = soonest(chains);
  return {
    kind: 'certs',
    certs: { roots: distinct(roots), ...(workload ? { workload } : {}) },
    source: 'envoy',
  };
}

// Envoy of Istio 1.0 (context_impl.cc): "Certificate Path: {}, Serial Number: {}, Days until Expiration: {}".
const TEXT_CERT = /Certificate Path: [^,]*, Serial Number: ([0-9A-Fa-f]+), Days until Expiration: (-?\d+)/;
const TEXT_FIELD = /"(ca_cert|cert_chain)":\s*"([^"]*)"/g;

/** Istio 1.0's text form: blocks per TLS context, concatenated, so not one JSON document. */
export function parseCertsText(text: string): CertsReading {
  const roots: HeldCert[] = [];
  const chains: HeldCert[] = [];
  for (const m of text.matchAll(TEXT_FIELD)) {
    const cert = TEXT_CERT.exec(m[2]!);
    if (!cert) continue;
    const held = { serial: cert[1]!.toLowerCase(), days: Number(cert[2]) };
    (m[1] === 'ca_cert' ? roots : chains).push(held);
  }
  const reading = collect(roots, chains);
  return reading.kind === 'certs' ? { ...reading, source: 'envoy-1.0' } : reading;
}

const detailSchema = z.object({
  serial_number: z.string(),
  // uint64 in the proto, so proto3 JSON renders it as a string.
  days_until_expiration: z.union([z.string(), z.number()]).optional(),
  expiration_time: z.string().optional(),
  valid_from: z.string().optional(),
});
const modernSchema = z.object({
  certificates: z
    .array(
      z.object({
        ca_cert: z.array(detailSchema).optional(),
        cert_chain: z.array(detailSchema).optional(),
      }),
    )
    .nullish(),
});

const DAY_MS = 86_400_000;

function held(d: z.infer<typeof detailSchema>, now: number): HeldCert {
  const expires = d.expiration_time ? Date.parse(d.expiration_time) : Number.NaN;
  const from = d.valid_from ? Date.parse(d.valid_from) : Number.NaN;
  // The timestamp decides when present: Envoy once printed a large positive day count for expired certs.
  const days = Number.isFinite(expires)
    ? Math.floor((expires - now) / DAY_MS)
    : Number(d.days_until_expiration ?? Number.NaN);
  return {
    serial: d.serial_number.toLowerCase(),
    days,
    ...(Number.isFinite(expires) ? { expires: new Date(expires).toISOString() } : {}),
    ...(Number.isFinite(expires) && Number.isFinite(from)
      ? { lifetimeDays: Math.floor((expires - from) / DAY_MS) }
      : {}),
  };
}

/** Modern Envoy: `{"certificates":[{"ca_cert":[…],"cert_chain":[…]}]}`. */
export function parseCertsJson(text: string, now: number): CertsReading {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unparsed', reason: 'the admin /certs answer is not JSON' };
  }
  const parsed = modernSchema.safeParse(json);
  if (!parsed.success) return { kind: 'unparsed', reason: 'the admin /certs answer has an unknown shape' };
  const blocks = parsed.data.certificates ?? [];
  const roots = blocks.flatMap((b) => (b.ca_cert ?? []).map((d) => held(d, now)));
  const chains = blocks.flatMap((b) => (b.cert_chain ?? []).map((d) => held(d, now)));
  if ([...roots, ...chains].some((c) => Number.isNaN(c.days)))
    return { kind: 'unparsed', reason: 'a certificate in /certs has no expiry' };
  return collect(roots, chains);
}

/** Either form, told apart by the first character Envoy writes. */
export function parseCerts(text: string, now: number): CertsReading {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty' };
  if (trimmed.includes('"certificates"')) return parseCertsJson(trimmed, now);
  if (trimmed.startsWith('{')) return parseCertsText(trimmed);
  return { kind: 'unparsed', reason: 'the admin /certs answer is neither Envoy format' };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function fromPem(pem: string, now: number): HeldCert[] {
  return [...pem.matchAll(PEM_BLOCK)].map((m) => {
    const x = new X509Certificate(m[0]);
    const expires = Date.parse(x.validTo);
    return {
      serial: x.serialNumber.toLowerCase(),
      days: Math.floor((expires - now) / DAY_MS),
      expires: new Date(expires).toISOString(),
      lifetimeDays: Math.floor((expires - Date.parse(x.validFrom)) / DAY_MS),
    };
  });
}

/** Istio 1.0's mounted files `root-cert.pem` and `cert-chain.pem` (the workload's cert comes first). */
export function parsePemFiles(rootPem: string, chainPem: string, now: number): CertsReading {
  try {
    const roots = fromPem(rootPem, now);
    const chain = fromPem(chainPem, now);
    if (roots.length === 0 && chain.length === 0) return { kind: 'empty' };
    return {
      kind: 'certs',
      certs: { roots: distinct(roots), ...(chain[0] ? { workload: chain[0] } : {}) },
      source: 'pem',
    };
  } catch (err) {
    return { kind: 'unparsed', reason: `a mounted certificate does not parse: ${(err as Error).message}` };
  }
}
