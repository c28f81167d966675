import { classifyKubeError } from '../kube/errors.ts';
import { listVirtualServices } from '../mesh/routing/live.ts';
import { matchingPresets } from '../mesh/routing/plan.ts';
import { presetsFor, routingNamespaces } from '../mesh/routing/presets.ts';
import { type LiveState, renderPresetList } from '../slack/render/routing.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh route list`: every preset in plain words, and which of them the live routes match. */
export const routeListHandler: CommandHandler<'route-list'> = async (_command, _job, ctx) => {
  const presets = presetsFor(ctx.config.routing);
  const primary = ctx.clusters.primary;
  let live: LiveState;
  try {
    live = {
      ok: true,
      cluster: primary.name,
      virtualServices: await listVirtualServices(
        primary,
        routingNamespaces(presets, ctx.config.routing.namespace),
      ),
    };
  } catch (err) {
    live = { ok: false, cluster: primary.name, reason: classifyKubeError(err).reason };
  }
  return renderPresetList(presets, live, live.ok ? matchingPresets(presets, live.virtualServices) : []);
};
