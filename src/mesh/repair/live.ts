import type { V1Endpoints } from '@kubernetes/client-node';
import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import type { Clusters } from '../../kube/registry.ts';
import type { DriftProblem } from '../istio/drift.ts';
import {
  notMirrored,
  REMOTE_ISTIOD_SERVICE,
  REMOTE_MESH_CONFIGMAP,
  REMOTE_PILOT_ENDPOINTS,
} from '../istio/gather.ts';
import { gatherDrift } from '../istio/gather-drift.ts';
import { istioSetup } from '../istio/profiles.ts';
import { isPodFinding, type LiveObject, makeRepairPlan, type RepairPlan } from './plan.ts';
import { type DeploymentFacts, makeRestartPlan, type RestartPlan } from './restart-plan.ts';

/**
 * Reads what a repair plan is made from: the drift (through `gatherDrift`, the status check's own reader)
 * and the remote objects it points into, with their resourceVersions; then plans both steps.
 */

export interface RepairDeps {
  config: Pick<MeshConfig, 'istio' | 'checks'>;
  clusters: Clusters;
}

export type Planned =
  | {
      ok: true;
      remote: Cluster;
      /** The objects a repair may write, as read: their resourceVersions are what a plan is bound to. */
      objects: LiveObject[];
      repair: RepairPlan;
      restart: RestartPlan;
      problems: DriftProblem[];
    }
  | { ok: false; reason: string };

async function absentOn404<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (classifyKubeError(err).kind === 'not-found') return undefined;
    throw err;
  }
}

/** The objects of the remote's topology a repair may write, as they are now. */
export async function readRepairObjects(
  remote: Cluster,
  profile: 'istio-1.0' | 'modern',
  namespace: string,
  timeoutMs: number,
): Promise<LiveObject[]> {
  const opts = () => remote.options(timeoutMs);
  if (profile === 'modern') {
    // Both kinds are read; the drift findings name the one the remote's Istio version owns, and only
    // objects a finding names are edited.
    const [endpoints, slices] = await Promise.all([
      absentOn404(() =>
        remote.core.readNamespacedEndpoints({ name: REMOTE_ISTIOD_SERVICE, namespace }, opts()),
      ),
      remote.discovery.listNamespacedEndpointSlice(
        { namespace, labelSelector: `kubernetes.io/service-name=${REMOTE_ISTIOD_SERVICE}` },
        opts(),
      ),
    ]);
    return [
      ...(endpoints ? [endpointsObject(endpoints, namespace)] : []),
      ...slices.items.filter(notMirrored).map(
        (s): LiveObject => ({
          kind: 'EndpointSlice',
          namespace,
          name: s.metadata?.name ?? '',
          resourceVersion: s.metadata?.resourceVersion ?? '',
          addressType: s.addressType,
          endpoints: s.endpoints ?? [],
        }),
      ),
    ];
  }
  const [cm, ep] = await Promise.all([
    absentOn404(() =>
      remote.core.readNamespacedConfigMap({ name: REMOTE_MESH_CONFIGMAP, namespace }, opts()),
    ),
    absentOn404(() =>
      remote.core.readNamespacedEndpoints({ name: REMOTE_PILOT_ENDPOINTS, namespace }, opts()),
    ),
  ]);
  const out: LiveObject[] = [];
  if (cm?.data?.mesh !== undefined)
    out.push({
      kind: 'ConfigMap',
      namespace,
      name: REMOTE_MESH_CONFIGMAP,
      resourceVersion: cm.metadata?.resourceVersion ?? '',
      mesh: cm.data.mesh,
    });
  if (ep) out.push(endpointsObject(ep, namespace));
  return out;
}

const endpointsObject = (ep: V1Endpoints, namespace: string): LiveObject => ({
  kind: 'Endpoints',
  namespace,
  name: ep.metadata?.name ?? '',
  resourceVersion: ep.metadata?.resourceVersion ?? '',
  subsets: ep.subsets ?? [],
});

async function listDeployments(
  remote: Cluster,
  namespaces: readonly string[],
  timeoutMs: number,
): Promise<DeploymentFacts[]> {
  const lists = await Promise.all(
    namespaces.map((namespace) =>
      remote.apps.listNamespacedDeployment({ namespace }, remote.options(timeoutMs)),
    ),
  );
  return lists.flatMap((l) =>
    l.items.map((d) => ({
      namespace: d.metadata?.namespace ?? '',
      name: d.metadata?.name ?? '',
      resourceVersion: d.metadata?.resourceVersion ?? '',
      matchLabels: d.spec?.selector.matchLabels ?? {},
    })),
  );
}

const unreadable = (problems: readonly DriftProblem[]) =>
  problems.flatMap((p) =>
    p.kind === 'not-checked' ? [`${p.what} on ${p.cluster} (${p.failure.reason})`] : [],
  );

/** Plans the repair of one remote from the live state; nothing is written. */
export async function planRemote(deps: RepairDeps, remoteName: string): Promise<Planned> {
  const { config, clusters } = deps;
  const remote = clusters.get(remoteName);
  if (remote?.role !== 'remote')
    return { ok: false, reason: `${remoteName} is not a configured remote cluster` };
  const primary = clusters.primary;
  const setup = istioSetup(config, remote.config);
  const timeoutMs = config.checks.clusterTimeout;
  let drift: Awaited<ReturnType<typeof gatherDrift>>;
  let objects: LiveObject[];
  try {
    [drift, objects] = await Promise.all([
      gatherDrift(config, primary, remote),
      readRepairObjects(remote, setup.profile, setup.namespace, timeoutMs),
    ]);
  } catch (err) {
    return {
      ok: false,
      reason: `${remote.name} could not be read: ${classifyKubeError(err, timeoutMs).reason}`,
    };
  }
  // A plan made from half the picture could point a remote at a guess: any unread answer stops it.
  const missing = unreadable(drift.problems);
  if (missing.length > 0)
    return { ok: false, reason: `meshops could not read ${missing.join('; ')}, so it cannot plan a repair` };
  // Pointing the remote at a pod a rollout is about to replace would drift it again at once.
  const unsettled = [...new Set(drift.findings.flatMap((f) => (f.unsettled ? [f.unsettled] : [])))];
  if (unsettled.length > 0)
    return {
      ok: false,
      reason: `the repair waits until every drifted component has finished its rollout with all pods Ready: ${unsettled.join('; ')}. Run /mesh repair drift ${remote.name} again once the rollout has finished`,
    };
  const repair = makeRepairPlan({
    remote: remote.name,
    primary: primary.name,
    profile: setup.profile,
    findings: drift.findings,
    objects,
  });
  const namespaces = [...new Set(repair.pods.map((f) => f.object.slice('Pod '.length).split('/')[0]!))];
  let deployments: DeploymentFacts[] = [];
  try {
    deployments = await listDeployments(remote, namespaces, timeoutMs);
  } catch (err) {
    return {
      ok: false,
      reason: `the Deployments on ${remote.name} could not be listed: ${classifyKubeError(err, timeoutMs).reason}`,
    };
  }
  const unrepaired = new Set(drift.findings.filter((f) => !isPodFinding(f)).map((f) => f.component));
  const restart = makeRestartPlan({
    remote: remote.name,
    primary: primary.name,
    profile: setup.profile,
    pods: repair.pods,
    workloads: drift.workloads,
    deployments,
    unrepaired,
  });
  return { ok: true, remote, objects, repair, restart, problems: drift.problems };
}
