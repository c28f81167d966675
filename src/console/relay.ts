import {
  type ButtonClick,
  blockActionsBody,
  type SlashCommand,
  signedHeaders,
  slashCommandBody,
} from './sign.ts';

/** Slack gives an app 3 seconds to acknowledge a command or a click, then tells the user it failed. */
export const ACK_TIMEOUT_MS = 3000;

/**
 * What Slack got back from the app: the acknowledgement's body (a slash command may answer in it), or the error
 * Slack would show the user — `operation_timeout` when the app took too long, `dispatch_failed` otherwise.
 */
export type Delivery =
  | { ok: true; ack: Record<string, unknown> | undefined }
  | { ok: false; error: 'dispatch_failed' | 'operation_timeout'; detail: string };

async function deliver(eventsUrl: string, secret: string, body: string): Promise<Delivery> {
  let res: Response;
  try {
    res = await fetch(eventsUrl, {
      method: 'POST',
      headers: signedHeaders(secret, body),
      body,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
  } catch (err) {
    const timeout = err instanceof Error && err.name === 'TimeoutError';
    const cause =
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return timeout
      ? { ok: false, error: 'operation_timeout', detail: `no answer within ${ACK_TIMEOUT_MS / 1000} s` }
      : { ok: false, error: 'dispatch_failed', detail: cause };
  }
  const text = await res.text();
  if (!res.ok) return { ok: false, error: 'dispatch_failed', detail: `HTTP ${res.status} ${text}`.trim() };
  return { ok: true, ack: parseAck(text) };
}

/** An empty 200 acknowledges silently; JSON is a message; any other text is shown as the message text. */
function parseAck(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {}
  return { text };
}

export function sendCommand(eventsUrl: string, secret: string, command: SlashCommand): Promise<Delivery> {
  return deliver(eventsUrl, secret, slashCommandBody(command));
}

export function sendClick(eventsUrl: string, secret: string, click: ButtonClick): Promise<Delivery> {
  return deliver(eventsUrl, secret, blockActionsBody(click));
}
