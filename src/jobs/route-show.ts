import { classifyKubeError } from '../kube/errors.ts';
import { listVirtualServices } from '../mesh/routing/live.ts';
import { type LiveState, renderShow } from '../slack/render/routing.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh route show [virtualservice]`: the live routes on the primary, in the words presets use. */
export const routeShowHandler: CommandHandler<'route-show'> = async (command, _job, ctx) => {
  const primary = ctx.clusters.primary;
  const namespaces = [ctx.config.routing.namespace];
  let live: LiveState;
  try {
    live = {
      ok: true,
      cluster: primary.name,
      virtualServices: await listVirtualServices(primary, namespaces),
    };
  } catch (err) {
    live = { ok: false, cluster: primary.name, reason: classifyKubeError(err).reason };
  }
  return renderShow(live, namespaces, command.virtualService);
};
