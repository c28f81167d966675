import type { Draft } from './findings.ts';
import type { ClusterSnapshot } from './gather.ts';
import { DISCOVERY } from './profiles.ts';
import type { ClusterVersions } from './report.ts';
import { istioTag, minorOf } from './version-tag.ts';

const PROXY_CONTAINER = 'istio-proxy';

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

/**
 * The Istio version a modern remote runs: it has no istiod of its own, so the tag its sidecars were injected
 * with (most pods), else the primary's istiod tag.
 */
export function remoteIstioVersion(remote: ClusterVersions, reference: string | undefined) {
  return remote.proxies[0]?.tag ?? reference;
}

/** The primary's discovery image tag, the version every cluster is compared with. */
export function referenceTag(primary: ClusterSnapshot | undefined, versions: ClusterVersions | undefined) {
  if (!primary || !versions) return undefined;
  return versions.controlPlane.find((c) => c.component === DISCOVERY[primary.setup.profile])?.tags[0];
}
