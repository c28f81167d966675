import {
  type WebAPICallResult,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import type { ReplyPort } from '../chat/reply.ts';
import type { Logger } from '../observability/logger.ts';

/** A Slack error code (`not_in_channel`, `channel_not_found`, …) the caller can turn into advice. */
export class SlackApiError extends Error {
  readonly code: string;
  constructor(code: string, method: string) {
    super(`Slack ${method} failed: ${code}`);
    this.name = 'SlackApiError';
    this.code = code;
  }
}

export interface PosterOptions {
  token: string;
  apiUrl: string;
  log: Logger;
  /** Slack allows about one message per second per channel; 0 disables pacing (benchmarks). */
  channelIntervalMs: number;
  /** How often a 429 or a 5xx is retried before the error reaches the caller. */
  maxRetries?: number;
  requestTimeoutMs?: number;
  onRateLimited?: (method: string, retryAfterSec: number) => void;
  onError?: (method: string, code: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Channels whose membership error means "invite the bot", which the user can fix. */
export const MEMBERSHIP_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

export function createSlackClient(token: string, apiUrl: string, timeoutMs: number): WebClient {
  // The library's default policy retries 10 times over ~30 minutes; retries are ours to decide.
  return new WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
  });
}

/** The reply port on the Slack Web API: paced per channel, patient with 429 and 5xx, clear about the rest. */
export function createPoster(options: PosterOptions): ReplyPort {
  const client = createSlackClient(options.token, options.apiUrl, options.requestTimeoutMs ?? 10_000);
  const maxRetries = options.maxRetries ?? 5;
  const nextSlot = new Map<string, number>();

  // Reserve the channel's next free slot before waiting, so concurrent jobs in one channel queue up in order
  // while other channels are not held back at all.
  async function pace(channel: string): Promise<void> {
    if (options.channelIntervalMs <= 0) return;
    const now = Date.now();
    const slot = Math.max(now, nextSlot.get(channel) ?? 0);
    nextSlot.set(channel, slot + options.channelIntervalMs);
    if (slot > now) await sleep(slot - now);
  }

  // Only posting is limited per channel; updates and ephemerals fall under per-method tiers and 429s.
  async function call<T extends WebAPICallResult>(
    method: string,
    channel: string,
    run: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (method === 'chat.postMessage') await pace(channel);
      try {
        return await run();
      } catch (err) {
        if (err instanceof WebAPIPlatformError) {
          const code = String(err.data.error);
          options.onError?.(method, code);
          throw new SlackApiError(code, method);
        }
        let waitMs: number;
        if (err instanceof WebAPIRateLimitedError) {
          options.onRateLimited?.(method, err.retryAfter);
          waitMs = err.retryAfter * 1000;
        } else if (
          (err instanceof WebAPIHTTPError && err.statusCode >= 500) ||
          err instanceof WebAPIRequestError ||
          (err instanceof Error && err.name === 'TimeoutError')
        ) {
          options.onError?.(
            method,
            err instanceof WebAPIHTTPError ? `http_${err.statusCode}` : 'request_error',
          );
          waitMs = Math.min(30_000, 500 * 2 ** attempt);
        } else {
          throw err;
        }
        if (attempt >= maxRetries) throw err;
        options.log.warn({ method, channel, attempt: attempt + 1, waitMs }, 'Slack call failed; retrying');
        await sleep(waitMs);
      }
    }
  }

  return {
    async post(message) {
      const res = await call('chat.postMessage', message.channel, () =>
        client.chat.postMessage({ ...message, unfurl_links: false, unfurl_media: false }),
      );
      return { channel: String(res.channel ?? message.channel), ts: String(res.ts) };
    },
    async update(message) {
      await call('chat.update', message.channel, () => client.chat.update(message));
    },
    async ephemeral(message) {
      await call('chat.postEphemeral', message.channel, () => client.chat.postEphemeral(message));
    },
    async upload(file) {
      // The three calls directly rather than filesUploadV2: the SDK sends `alt_text`, Slack's method
      // documents `alt_txt`.
      const target = await call('files.getUploadURLExternal', file.channel, () =>
        client.files.getUploadURLExternal({
          filename: file.filename,
          length: file.data.length,
          alt_txt: file.altText.slice(0, 1000),
        } as Parameters<typeof client.files.getUploadURLExternal>[0]),
      );
      const fileId = String(target.file_id);
      const sent = await fetch(String(target.upload_url), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(file.data),
        signal: AbortSignal.timeout(options.requestTimeoutMs ?? 10_000),
      });
      if (!sent.ok) throw new SlackApiError(`upload_http_${sent.status}`, 'file upload');
      // A file share creates a message: it counts against the channel's pace like a post.
      await pace(file.channel);
      await call('files.completeUploadExternal', file.channel, () =>
        client.files.completeUploadExternal({
          files: [{ id: fileId, title: file.title }],
          channel_id: file.channel,
          ...(file.thread_ts ? { thread_ts: file.thread_ts } : {}),
        }),
      );
      return { fileId };
    },
  };
}
