import { classifyKubeError } from '../kube/errors.ts';
import { type ClusterProbe, renderClusters } from '../slack/render/clusters.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh clusters`: asks every API server for /version at once, so one slow cluster never delays the others. */
export const clustersHandler: CommandHandler<'clusters'> = async (_command, _job, ctx) => {
  const probes = await Promise.all(
    ctx.clusters.all.map(async (cluster): Promise<ClusterProbe> => {
      const started = performance.now();
      const answer = await cluster.version().then(
        (v) => ({ ok: true as const, version: v.gitVersion }),
        (err: unknown) => ({
          ok: false as const,
          reason: classifyKubeError(err, ctx.config.checks.clusterTimeout).reason,
        }),
      );
      return { name: cluster.name, role: cluster.role, ...answer, ms: performance.now() - started };
    }),
  );
  return renderClusters(probes);
};
