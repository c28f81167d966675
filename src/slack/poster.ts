import {
  type WebAPICallResult,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { toMrkdwn } from '../chat/mrkdwn.ts';
import type { ReplyPort } from '../chat/reply.ts';
import type { Logger } from '../observability/logger.ts';
import type { ChannelBudget } from './channel-budget.ts';

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
  /** Slack's per-channel budget for chat.postMessage, shared with every replica. */
  budget: ChannelBudget;
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

  // Only posting is limited per channel; updates and ephemerals fall under per-method tiers and 429s.
  async function call<T extends WebAPICallResult>(
    method: string,
    channel: string,
    run: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (method === 'chat.postMessage') {
        const held = await options.budget.take(channel);
        if (held > 0) options.log.debug({ channel, held }, 'post held by the channel budget');
      }
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
          // Slack's word outranks our estimate: every replica holds this channel's posts until Retry-After.
          if (method === 'chat.postMessage') await options.budget.pause(channel, waitMs);
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
        client.chat.postMessage({
          ...message,
          text: toMrkdwn(message.text),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      return { channel: String(res.channel ?? message.channel), ts: String(res.ts) };
    },
    async update(message) {
      await call('chat.update', message.channel, () =>
        client.chat.update({ ...message, text: toMrkdwn(message.text) }),
      );
    },
    async ephemeral(message) {
      await call('chat.postEphemeral', message.channel, () =>
        client.chat.postEphemeral({ ...message, text: toMrkdwn(message.text) }),
      );
    },
    async respond(responseUrl, text) {
      const res = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: toMrkdwn(text) }),
        signal: AbortSignal.timeout(options.requestTimeoutMs ?? 10_000),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new SlackApiError(`http_${res.status}`, 'response_url');
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
      // A file share creates a message: it spends from the channel's posting budget like a post.
      await options.budget.take(file.channel);
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
