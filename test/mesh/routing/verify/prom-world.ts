// The world verification tests run in: the routing world with a real Prometheus (Debian's `prometheus`)
// scraping the simulated mesh, reached by meshops through the primary's API server proxy.

import { onPath } from '../../../../src/demo/redis.ts';
import { type RunningPrometheus, startPrometheus } from '../../../helpers/prometheus.ts';
import { waitFor } from '../../../helpers/wait.ts';
import { ALICE, BOB, blocksText, startWorld, type World, type WorldOptions } from '../world.ts';

export const skipWithoutPrometheus =
  !onPath('prometheus') && 'prometheus is not installed (apt-get install prometheus)';

/** Waits until Prometheus has reviews traffic from the last seconds (the baseline the first change needs). */
export async function scraped(promUrl: string): Promise<void> {
  const q = encodeURIComponent(
    'sum(increase(istio_requests_total{reporter="destination",destination_service="reviews.default.svc.cluster.local"}[5s])) > 0',
  );
  await waitFor(
    'Prometheus to have scraped reviews traffic',
    async () => {
      const direct = await fetch(`${promUrl}/api/v1/query?query=${q}`).then((r) => r.json());
      return (direct as { data: { result: unknown[] } }).data.result.length > 0;
    },
    30_000,
  );
}

/** A routing world whose primary serves a real Prometheus that has already scraped some traffic. */
export async function startPromWorld(
  label: string,
  options: WorldOptions,
): Promise<{ w: World; prom: RunningPrometheus; close(): Promise<void> }> {
  const w = await startWorld(label, options);
  const prom = await startPrometheus({ targets: [w.sim.metrics.target] });
  w.sim.connectService('icp', 'istio-system', 'prometheus', 9090, prom.url);
  await scraped(prom.url);
  return {
    w,
    prom,
    async close() {
      await w.close();
      await prom.stop();
    },
  };
}

/** `/mesh route <command>` by Alice, approved by Bob; the approval message's ts and request id. */
export async function requestAndApprove(
  w: World,
  channel: string,
  command = 'route apply reviews-v3',
): Promise<{ ts: string; id: string }> {
  await w.h.command(command, { user: ALICE, channel });
  await w.h.waitForVerdict(channel, `/mesh ${command}`);
  const { ts, id } = await w.approval(channel);
  await w.approve(channel, BOB);
  return { ts, id };
}

export const thread = (w: World, channel: string, ts: string) => w.h.thread(channel, ts);

export const chartIn = (w: World, channel: string, ts: string) =>
  thread(w, channel, ts).find((m) => m.files?.some((f) => f.mimetype === 'image/png'));

/** The thread's message that contains `text`, once it is there. */
export const inThread = (w: World, channel: string, ts: string, text: string) =>
  waitFor(`"${text}" in the thread`, () => thread(w, channel, ts).find((m) => blocksText(m).includes(text)));
