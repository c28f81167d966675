import { classifyKubeError } from '../kube/errors.ts';
import { listVirtualServices } from '../mesh/routing/live.ts';
import { makePlan, presetTargets } from '../mesh/routing/plan.ts';
import { findPreset, presetsFor } from '../mesh/routing/presets.ts';
import { renderDiff, renderNotRequested } from '../slack/render/routing.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh route diff <preset>`: what applying the preset would change on the primary, as a compact diff. */
export const routeDiffHandler: CommandHandler<'route-diff'> = async (command, _job, ctx) => {
  const title = `Route diff ${command.preset}`;
  const preset = findPreset(presetsFor(ctx.config.routing), command.preset);
  if (typeof preset === 'string') return renderNotRequested(title, preset);
  const primary = ctx.clusters.primary;
  try {
    const live = await listVirtualServices(
      primary,
      preset.virtualServices.map((v) => v.ref.namespace),
    );
    return renderDiff(preset.name, primary.name, makePlan(presetTargets(preset), live, preset.name));
  } catch (err) {
    return renderNotRequested(
      title,
      `the live routes on ${primary.name} could not be read: ${classifyKubeError(err).reason}`,
    );
  }
};
