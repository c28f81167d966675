// Deterministic identifiers: the same scenario yields the same pod names, IPs and uids on
// every run, so tests and docs can name them, yet they look like what Kubernetes generates.

// The alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no confusable characters).
const KUBE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: tiny, fast and good enough for jitter and loss draws. */
export function seededRandom(seed: string): () => number {
  let state = fnv1a(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function kubeSuffix(seed: string, length: number): string {
  const next = seededRandom(seed);
  let out = '';
  for (let i = 0; i < length; i++) out += KUBE_ALPHABET[Math.floor(next() * KUBE_ALPHABET.length)];
  return out;
}

/** Looks like a ReplicaSet's pod-template-hash (e.g. `6c5c6b586c`). */
export function podTemplateHash(template: unknown): string {
  return kubeSuffix(`template:${JSON.stringify(template)}`, 10);
}

export function hexId(seed: string, length: number): string {
  const next = seededRandom(seed);
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(next() * 16).toString(16);
  return out;
}

export function uid(seed: string): string {
  const h = hexId(`uid:${seed}`, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
