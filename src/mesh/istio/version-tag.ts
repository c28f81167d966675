/** Istio's own images (docker.io/istio/pilot:1.0.2, gcr.io/istio-release/proxyv2:1.24.2, …): tag after the name. */
const ISTIO_IMAGE = /(?:^|\/)(?:istio|istio-release)\/([a-z0-9_-]+):([^@\s]+)$/;

export function istioTag(image: string | undefined): string | undefined {
  return ISTIO_IMAGE.exec(image ?? '')?.[2];
}

/** `1.0.2` → [1, 0]; tags that are not versions (latest, a digest) have none. */
export function minorOf(tag: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(tag);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
