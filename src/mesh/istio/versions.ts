import type { Draft } from './findings.ts';
import { DISCOVERY } from './findings.ts';
import type { ClusterSnapshot } from './gather.ts';
import type { ClusterVersions } from './report.ts';

/** Istio's own images (docker.io/istio/pilot:1.0.2, gcr.io/istio-release/proxyv2:1.24.2, …): tag after the name. */
const ISTIO_IMAGE = /(?:^|\/)(?:istio|istio-release)\/([a-z0-9_-]+):([^@\s]+)$/;
const PROXY_CONTAINER = 'istio-proxy';

export function istioTag(image: string | undefined): string | undefined {
  return ISTIO_IMAGE.exec(image ?? '')?.[2];
}

/** `1.0.2` → [1, 0]; tags that are not versions (latest, a digest) have none. */
export function minorOf(tag: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(tag);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** What one cluster's pods run: each component's Istio images (not its sidecar), the injected sidecars' tags. */
export function clusterVersions(s: ClusterSnapshot): ClusterVersions {
  const controlPlane = s.components.map((c) => {
    const tags = new Set<string>();
    for (const pod of c.pods.ok ? c.pods.value : []) {
      for (const [container, image] of Object.entries(pod.images)) {
        const tag = container === PROXY_CONTAINER ? undefined : istioTag(image);
        if (tag) tags.add(tag);
      }
    }
    return { component: c.spec.name, tags: [...tags].sort() };
  });
  const proxies = new Map<string, { tag: string; pods: number; example: string }>();
  for (const pod of s.workloads.ok ? s.workloads.value : []) {
    const tag = istioTag(pod.images[PROXY_CONTAINER]);
    if (!tag) continue;
    const seen = proxies.get(tag) ?? { tag, pods: 0, example: `${pod.state.name}.${pod.state.namespace}` };
    seen.pods += 1;
    proxies.set(tag, seen);
  }
  return { controlPlane, proxies: [...proxies.values()].sort((a, b) => b.pods - a.pods) };
}

/**
 * Istio supports a data plane one minor behind the control plane, never ahead (istio.io supported releases);
 * a remote's own components come from the same release as the primary's. Compared with the primary's
 * discovery component (pilot, istiod).
 */
export function versionDrafts(
  cluster: string,
  primary: string,
  reference: string | undefined,
  versions: ClusterVersions,
  isRemote: boolean,
  discovery: string,
): Draft[] {
  const ref = reference ? minorOf(reference) : undefined;
  if (!reference || !ref) return [];
  const drafts: Draft[] = [];
  const skew = (tag: string) => {
    const v = minorOf(tag);
    if (!v) return undefined;
    const behind = (ref[0] - v[0]) * 100 + (ref[1] - v[1]);
    if (behind < 0) return 'ahead of';
    if (behind > 1) return `${behind} minor versions behind`;
    return undefined;
  };
  const off = versions.proxies.filter((p) => skew(p.tag));
  if (off.length > 0) {
    const n = off.reduce((sum, p) => sum + p.pods, 0);
    drafts.push({
      id: `${cluster}/version/proxies`,
      cluster,
      area: 'version',
      severity: 'warning',
      text: `${cluster}: ${n} sidecar${n === 1 ? '' : 's'} run${n === 1 ? 's' : ''} ${off
        .map((p) => `${p.tag} (${skew(p.tag)} ${discovery} ${reference}; e.g. ${p.example})`)
        .join(', ')} — beyond the one minor version Istio supports between data and control plane`,
      action: `re-inject the workloads with ${discovery}'s version (restart them) or upgrade the control plane first`,
    });
  }
  if (isRemote) {
    const other = versions.controlPlane.filter((c) =>
      c.tags.some((t) => minorOf(t)?.join('.') !== ref.join('.')),
    );
    if (other.length > 0) {
      drafts.push({
        id: `${cluster}/version/chart`,
        cluster,
        area: 'version',
        severity: 'warning',
        text: `${cluster}: the remote's ${other.map((c) => `${c.component} ${c.tags.join('/')}`).join(', ')} come${other.length === 1 ? 's' : ''} from another release than ${primary}'s ${discovery} ${reference}`,
        action: `install the remote chart of the primary's release (${reference})`,
      });
    }
  }
  return drafts;
}

/** The primary's discovery image tag, the version every cluster is compared with. */
export function referenceTag(primary: ClusterSnapshot | undefined, versions: ClusterVersions | undefined) {
  if (!primary || !versions) return undefined;
  return versions.controlPlane.find((c) => c.component === DISCOVERY[primary.setup.profile])?.tags[0];
}
