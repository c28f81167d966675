// The sim's side of kubectl's pod printer: READY/STATUS/RESTARTS/AGE come from kubectl's printPod,
// shared with meshops in src/kube/pod-status.ts; the `-o wide` cells are only ever printed here.

import type { PodShape } from '../../kube/pod-status.ts';

/** A pod as the sim stores it (plain JSON, timestamps as strings), as far as the Table printer reads it. */
export interface PodLike extends PodShape {
  metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: PodShape['spec'] & {
    nodeName?: string;
    readinessGates?: { conditionType: string }[];
  };
  status?: PodShape['status'] & {
    podIP?: string;
    podIPs?: { ip: string }[];
    nominatedNodeName?: string;
  };
}

/** The `-o wide` cells: IP, NODE, NOMINATED NODE, READINESS GATES. */
export function podWideCells(pod: PodLike): string[] {
  const status = pod.status ?? {};
  const ip = status.podIPs?.[0]?.ip ?? status.podIP ?? '';
  const gates = pod.spec?.readinessGates ?? [];
  let gatesText = '<none>';
  if (gates.length > 0) {
    const trueConditions = new Set(
      (status.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type),
    );
    gatesText = `${gates.filter((g) => trueConditions.has(g.conditionType)).length}/${gates.length}`;
  }
  return [ip || '<none>', pod.spec?.nodeName || '<none>', status.nominatedNodeName || '<none>', gatesText];
}
