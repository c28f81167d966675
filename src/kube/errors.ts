import { ApiException } from '@kubernetes/client-node';

export type KubeFailureKind =
  | 'timeout'
  | 'tls'
  | 'unauthorized'
  | 'forbidden'
  | 'refused'
  | 'unreachable'
  | 'not-found'
  | 'conflict'
  | 'invalid'
  | 'server-error'
  | 'unknown';

/** Why a cluster call failed, in words an SRE acts on (never the raw exception text with its headers). */
export interface KubeFailure {
  kind: KubeFailureKind;
  status?: number;
  reason: string;
}

export class KubeError extends Error {
  readonly failure: KubeFailure;
  constructor(failure: KubeFailure, options?: { cause?: unknown }) {
    super(failure.reason, options);
    this.name = 'KubeError';
    this.failure = failure;
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'EPROTO',
]);

function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/** Walks `cause` chains: undici wraps socket errors two levels deep. */
function codes(err: unknown): { codes: string[]; names: string[] } {
  const out = { codes: [] as string[], names: [] as string[] };
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 6; depth++) {
    const e = cur as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string') out.codes.push(e.code);
    if (typeof e.name === 'string') out.names.push(e.name);
    if (Array.isArray(e.errors)) for (const inner of e.errors) out.codes.push(...codes(inner).codes);
    cur = e.cause;
  }
  return out;
}

/** A call cut off by its time bound, said with the bound the user configured when the caller knows it. */
export const timedOut = (timeoutMs?: number): KubeFailure => ({
  kind: 'timeout',
  reason: `timed out${timeoutMs ? ` after ${timeoutMs} ms` : ''}`,
});

export function classifyKubeError(err: unknown, timeoutMs?: number): KubeFailure {
  if (err instanceof KubeError) return err.failure;
  if (err instanceof ApiException) {
    const code = err.code;
    const detail = statusMessage(err.body);
    if (code === 401)
      return { kind: 'unauthorized', status: 401, reason: '401 Unauthorized: the token was rejected' };
    if (code === 403)
      return { kind: 'forbidden', status: 403, reason: `403 Forbidden${detail ? `: ${detail}` : ''}` };
    if (code === 404) return { kind: 'not-found', status: 404, reason: detail ?? '404 Not Found' };
    if (code === 409) return { kind: 'conflict', status: 409, reason: detail ?? '409 Conflict' };
    if (code === 422 || code === 400)
      return { kind: 'invalid', status: code, reason: detail ?? `${code} Invalid` };
    if (code >= 500)
      return {
        kind: 'server-error',
        status: code,
        reason: `${code} from the API server${detail ? `: ${detail}` : ''}`,
      };
    return { kind: 'unknown', status: code, reason: `HTTP ${code}${detail ? `: ${detail}` : ''}` };
  }
  const { codes: found, names } = codes(err);
  if (
    names.includes('TimeoutError') ||
    names.includes('AbortError') ||
    found.includes('UND_ERR_CONNECT_TIMEOUT')
  ) {
    return timedOut(timeoutMs);
  }
  if (found.includes('ECONNREFUSED')) return { kind: 'refused', reason: 'connection refused' };
  const tls = found.find((c) => TLS_CODES.has(c) || c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL'));
  if (tls)
    return { kind: 'tls', reason: `TLS failure (${tls}): check the kubeconfig's certificate-authority-data` };
  const net = found.find((c) =>
    ['ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(c),
  );
  if (net) return { kind: 'unreachable', reason: `unreachable (${net})` };
  // "fetch failed" says nothing; the innermost cause says what went wrong.
  let inner: unknown = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const message = inner instanceof Error ? inner.message : String(inner);
  return { kind: 'unknown', reason: message.split('\n')[0]!.slice(0, 200) };
}
