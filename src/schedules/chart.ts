import type { ReplyPort } from '../chat/reply.ts';
import type { HistoryPort } from '../mesh/history.ts';
import { dayChart } from '../mesh/timeline/chart.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * The chart of the last 24 h in the thread of the day's digest. It comes after the digest is posted and
 * never fails the run: a refused or rate-limited upload costs the chart (a line in the thread says so),
 * never the digest.
 */
export async function postDayChart(
  deps: { history: HistoryPort; reply: ReplyPort; log: Logger },
  digest: { channel: string; ts: string; day: string },
  at: number,
  codeOf: (err: unknown) => string,
): Promise<void> {
  const { channel, ts, day } = digest;
  try {
    const chart = await dayChart(deps.history, at);
    if (!chart) return;
    // echarts and resvg take about a second to load: paid once a day, by the run that starts the digest.
    const { renderChartPng } = await import('../charts/index.ts');
    await deps.reply.upload({
      channel,
      thread_ts: ts,
      filename: `mesh-health-${day}.png`,
      title: 'Mesh health, last 24 h',
      altText: chart.altText,
      data: renderChartPng(chart.spec),
    });
  } catch (err) {
    deps.log.warn({ err, channel }, 'could not make or upload the daily chart');
    await deps.reply
      .post({
        channel,
        thread_ts: ts,
        text: `The chart of the last 24 h could not be posted (${codeOf(err)}); the digest above is complete.`,
      })
      .catch((e: unknown) => deps.log.warn({ err: e }, 'could not say the daily chart is missing'));
  }
}
