import { classifyKubeError } from '../kube/errors.ts';
import { type ClusterProbe, renderClusters } from '../slack/render/clusters.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh clusters`: asks every API server for /version at once, so one slow cluster never delays the others. */
export const clustersHandler: CommandHandler<'clusters'> = async (_command, _job, ctx) => {
  const probes = await Promise.all(
    ctx.clusters.all.map(async (cluster): Promise<ClusterProbe> => {
      const started = performance.now();
      try {
        const v = await cluster.version();
        return {
          name: cluster.name,
          role: cluster.role,
          ok: true,
          version: v.gitVersion,
          ms: performance.now() - started,
        };
      } catch (err) {
        const failure = classifyKubeError(err, ctx.config.checks.clusterTimeout);
        return {
          name: cluster.name,
          role: cluster.role,
          ok: false,
          reason: failure.reason,
          ms: performance.now() - started,
        };
      }
    }),
  );
  return renderClusters(probes);
};
