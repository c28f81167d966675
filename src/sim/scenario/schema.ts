// The scenario file format: a whole simulated mesh as data. Parsed with zod so a bad scenario
// fails at load with the path of the offending field.

import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());

/** A duration such as `45d`, `3h`, `10m`, `30s` (how long ago something was created). */
export const Age = z.string().regex(/^\d+[smhd]$/, 'expected a duration like 45d, 3h, 10m or 30s');

export const ContainerSpec = z.object({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z
    .array(
      z.object({
        name: z.string().optional(),
        containerPort: z.number().int(),
        protocol: z.enum(['TCP', 'UDP']).optional(),
      }),
    )
    .optional(),
});
export type ContainerSpec = z.infer<typeof ContainerSpec>;

export const WorkloadSpec = z.object({
  kind: z.enum(['Deployment', 'Job', 'DaemonSet']).default('Deployment'),
  name: z.string(),
  namespace: z.string(),
  /** Deployments and Jobs; a DaemonSet runs one pod on every node. */
  replicas: z.number().int().min(0).default(1),
  /** Labels of the Deployment/Job/DaemonSet object; the pod template labels are `labels`. */
  objectLabels: stringMap.optional(),
  labels: stringMap,
  annotations: stringMap.optional(),
  serviceAccountName: z.string().optional(),
  /** The pods share their node's network namespace: the pod IP is the node's. */
  hostNetwork: z.boolean().default(false),
  /**
   * The pods were created before their namespace was labelled for injection, so the webhook never saw
   * them; a pod created later (a restart, a rollout) is injected.
   */
  createdBeforeInjection: z.boolean().default(false),
  containers: z.array(ContainerSpec).min(1),
  age: Age.default('20d'),
  /** Which ping the image ships: iputils (Debian/Ubuntu), BusyBox (Alpine), or none. */
  ping: z.enum(['iputils', 'busybox', 'none']).default('iputils'),
  /** The image runs strongSwan: `ipsec status`/`statusall` answer from the network model. */
  strongswan: z.boolean().default(false),
  /**
   * How strongSwan is configured and driven: `stroke` (ipsec.conf, the `ipsec` script, as the IBM chart's
   * images), or `vici` (swanctl.conf and `swanctl` only: strongSwan 6 builds the stroke plugin and the
   * `ipsec` starter no longer by default).
   */
  strongswanFrontEnd: z.enum(['stroke', 'vici']).default('stroke'),
});
export type WorkloadSpec = z.infer<typeof WorkloadSpec>;

export const ServiceSpec = z.object({
  name: z.string(),
  namespace: z.string(),
  labels: stringMap.optional(),
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
  /** `None` for a headless Service; omitted means allocated from the service CIDR. */
  clusterIP: z.string().optional(),
  selector: stringMap.optional(),
  ports: z
    .array(
      z.object({
        name: z.string().optional(),
        port: z.number().int(),
        targetPort: z.union([z.number().int(), z.string()]).optional(),
        nodePort: z.number().int().optional(),
        protocol: z.enum(['TCP', 'UDP']).optional(),
      }),
    )
    .min(1),
  /** The external address a LoadBalancer got (status.loadBalancer.ingress[0].ip). */
  loadBalancerIP: z.string().optional(),
  age: Age.default('20d'),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** A value resolved at build time: the pod IP of the first running pod matching a selector. */
const PodIpRef = z.object({
  podIP: z.object({ cluster: z.string(), namespace: z.string(), labelSelector: z.string() }),
});
export type PodIpRef = z.infer<typeof PodIpRef>;

export const ChartRenderSpec = z.object({
  /** Folder under src/sim/scenarios/ holding Chart.yaml, values.yaml and the templates. */
  chart: z.string(),
  templates: z.array(z.string()).min(1),
  release: z.object({ name: z.string(), namespace: z.string(), service: z.string().default('Tiller') }),
  /** `helm --set` style overrides: dotted keys to values. */
  set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), PodIpRef])).default({}),
});
export type ChartRenderSpec = z.infer<typeof ChartRenderSpec>;

export const InjectionSpec = z.object({
  initContainer: ContainerSpec.optional(),
  proxy: ContainerSpec,
  /** Where the injector reads the mesh config (defaultConfig.discoveryAddress, …) at pod creation. */
  meshConfig: z.object({ namespace: z.string(), name: z.string(), key: z.string() }).optional(),
  /** Values used when the mesh config is absent or lacks a field. */
  defaults: stringMap.default({}),
  /**
   * The MutatingWebhookConfiguration's service (Istio 1.0: failurePolicy Fail). The API server refuses to
   * create a pod to inject while the Service has no ready endpoint; absent, injection always succeeds.
   */
  webhook: z
    .object({
      name: z.string(),
      namespace: z.string(),
      service: z.string(),
      path: z.string(),
      port: z.number(),
    })
    .optional(),
});
export type InjectionSpec = z.infer<typeof InjectionSpec>;

export const ClusterSpec = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label'),
  role: z.enum(['primary', 'remote']),
  kubernetesVersion: z
    .string()
    .regex(/^v\d+\.\d+\.\d+/)
    .default('v1.32.4'),
  podCidr: z.string(),
  serviceCidr: z.string(),
  /**
   * How kube-proxy implements Services. iptables, its default (IKS's too), DNATs only each Service's own
   * ports and no interface holds a ClusterIP, so nothing answers a ping to one (nftables mode neither);
   * ipvs binds every ClusterIP to the node's kube-ipvs0 device, so the node answers it.
   */
  kubeProxyMode: z.enum(['iptables', 'ipvs']).default('iptables'),
  nodes: z.array(z.object({ name: z.string(), ip: z.string() })).min(1),
  /** Built-in networking.istio.io versions served, preferred first (Istio 1.22+: v1, v1beta1, v1alpha3). */
  istioApiVersions: z.array(z.enum(['v1', 'v1beta1', 'v1alpha3'])).default(['v1', 'v1beta1', 'v1alpha3']),
  /**
   * Files under src/sim/scenarios/ whose CustomResourceDefinitions the cluster serves, as a chart installs
   * them (Istio 1.0: the istio chart's crds.yaml, with istioApiVersions empty).
   */
  crds: z.array(z.string()).default([]),
  /** The user meshops' bearer token authenticates as: deploy/rbac's ServiceAccount meshops-access/meshops. */
  user: z.string().default('system:serviceaccount:meshops-access:meshops'),
  namespaces: z.array(
    z.object({ name: z.string(), labels: stringMap.optional(), annotations: stringMap.optional() }),
  ),
  injection: InjectionSpec.optional(),
  workloads: z.array(WorkloadSpec).default([]),
  services: z.array(ServiceSpec).default([]),
  /** Multi-document YAML files under src/sim/scenarios/, applied to `namespace`. */
  manifests: z.array(z.object({ file: z.string(), namespace: z.string() })).default([]),
  /** Inline Kubernetes objects, created as they are. */
  objects: z.array(z.record(z.string(), z.unknown())).default([]),
  chartRenders: z.array(ChartRenderSpec).default([]),
  /** Istio remote secrets: a Secret holding a kubeconfig for another simulated cluster. */
  remoteSecrets: z
    .array(
      z.object({
        name: z.string(),
        namespace: z.string(),
        cluster: z.string(),
        /** The data key holding the kubeconfig (`--from-file <key>`); defaults to the cluster name. */
        key: z.string().optional(),
        labels: stringMap.default({ 'istio/multiCluster': 'true' }),
        annotations: stringMap.optional(),
      }),
    )
    .default([]),
  /** Namespaces where exec is refused with 403 (RBAC without pods/exec). */
  execForbiddenNamespaces: z.array(z.string()).default([]),
});
export type ClusterSpec = z.infer<typeof ClusterSpec>;

const TunnelSide = z.object({
  auto: z.enum(['add', 'start']),
  localId: z.string(),
  remoteId: z.string(),
  gateway: z.string(),
  localSubnets: z.array(z.string()).min(1),
  remoteSubnets: z.array(z.string()).min(1),
  state: z.enum(['up', 'half-up', 'down']).default('up'),
  /** The DaemonSet that routes this side's pods into the tunnel (the IBM chart's `<release>-strongswan-routes`). */
  routes: z.object({ namespace: z.string(), daemonSet: z.string() }).optional(),
});

export const NetworkSpecSchema = z.object({
  sameClusterRttMs: z.number().positive().default(0.08),
  externalRttMs: z.number().positive().default(24),
  tunnels: z
    .array(
      z.object({
        between: z.tuple([z.string(), z.string()]),
        conn: z.string().default('k8s-conn'),
        rttMs: z.number().positive(),
        establishedSecondsAgo: z.number().int().min(0).default(1020),
        sides: z.record(z.string(), TunnelSide),
      }),
    )
    .default([]),
});

export const ScenarioSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    clusters: z.array(ClusterSpec).min(1),
    network: NetworkSpecSchema.default({ sameClusterRttMs: 0.08, externalRttMs: 24, tunnels: [] }),
  })
  .superRefine((s, ctx) => {
    const names = new Set(s.clusters.map((c) => c.name));
    if (names.size !== s.clusters.length)
      ctx.addIssue({ code: 'custom', message: 'cluster names must be unique' });
    for (const t of s.network.tunnels) {
      for (const end of t.between) {
        if (!names.has(end)) ctx.addIssue({ code: 'custom', message: `tunnel end ${end} is not a cluster` });
        if (!t.sides[end])
          ctx.addIssue({ code: 'custom', message: `tunnel ${t.between.join('-')} lacks side ${end}` });
      }
    }
  });

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
