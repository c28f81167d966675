import type { DestinationRuleSubsets } from '../live.ts';
import type { Change } from '../plan.ts';
import { destinationsOf, subsetLabels } from '../preflight.ts';
import type { WatchedService } from './watch.ts';

/**
 * The services a change touches (routed to before or after it) and, per service, the versions the new
 * routes send to: a subset's `version` label, else the subset's name.
 */
export function watchedServices(
  changes: readonly Change[],
  rules: readonly DestinationRuleSubsets[],
): WatchedService[] {
  const out = new Map<string, WatchedService>();
  const serviceOf = (t: ReturnType<typeof destinationsOf>[number]) => {
    const fqdn = `${t.service.name}.${t.service.namespace}.svc.cluster.local`;
    let s = out.get(fqdn);
    if (!s) {
      s = { name: t.service.name, fqdn, routed: [] };
      out.set(fqdn, s);
    }
    return s;
  };
  for (const t of destinationsOf(changes.map((c) => ({ ...c, after: c.before })))) serviceOf(t);
  for (const t of destinationsOf(changes)) {
    const s = serviceOf(t);
    if (!t.subset) continue;
    const found = subsetLabels(t, rules);
    const version = ('labels' in found ? found.labels.version : undefined) ?? t.subset;
    if (!s.routed.includes(version)) s.routed.push(version);
  }
  return [...out.values()];
}
