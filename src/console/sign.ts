import { createHmac } from 'node:crypto';

/** Signs a request body exactly as Slack does (docs.slack.dev/authentication/verifying-requests-from-slack). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function signedHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, timestamp, body),
  };
}

export interface SlashCommand {
  command: string;
  text: string;
  userId: string;
  userName: string;
  channelId: string;
  channelName: string;
  responseUrl: string;
  teamId?: string;
  triggerId?: string;
}

/** The form body Slack posts for a slash command. */
export function slashCommandBody(c: SlashCommand): string {
  return new URLSearchParams({
    token: 'legacy-verification-token-unused',
    team_id: c.teamId ?? 'T0MESHOPS',
    team_domain: 'meshops',
    channel_id: c.channelId,
    channel_name: c.channelName,
    user_id: c.userId,
    user_name: c.userName,
    command: c.command,
    text: c.text,
    api_app_id: 'A0MESHOPS',
    is_enterprise_install: 'false',
    response_url: c.responseUrl,
    trigger_id: c.triggerId ?? `${Date.now()}.1.${Math.random().toString(16).slice(2)}`,
  }).toString();
}

export interface ButtonClick {
  userId: string;
  userName: string;
  channelId: string;
  channelName?: string;
  messageTs: string;
  actionId: string;
  value: string;
  blockId?: string;
  responseUrl: string;
  actionTs?: string;
  /** The button's label, as Slack echoes it in `actions[].text`. */
  buttonText?: string;
  /** The message that held the button, as Slack includes it (absent for ephemeral messages, as in Slack). */
  message?: { text: string; blocks: readonly unknown[]; thread_ts?: string; user?: string };
  isEphemeral?: boolean;
}

/** The form body Slack posts for a button click in a top-level blocks message (`payload=<json>`). */
export function blockActionsBody(c: ButtonClick): string {
  const payload = {
    type: 'block_actions',
    user: { id: c.userId, username: c.userName, name: c.userName, team_id: 'T0MESHOPS' },
    api_app_id: 'A0MESHOPS',
    token: 'legacy-verification-token-unused',
    container: {
      type: 'message',
      message_ts: c.messageTs,
      channel_id: c.channelId,
      is_ephemeral: c.isEphemeral ?? false,
    },
    trigger_id: `${Date.now()}.1.${Math.random().toString(16).slice(2)}`,
    team: { id: 'T0MESHOPS', domain: 'meshops' },
    channel: { id: c.channelId, name: c.channelName ?? c.channelId },
    ...(c.isEphemeral
      ? {}
      : { message: { type: 'message', ts: c.messageTs, text: '', ...c.message, bot_id: 'B0MESHBOT' } }),
    response_url: c.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: c.actionId,
        block_id: c.blockId ?? 'actions',
        value: c.value,
        text: { type: 'plain_text', text: c.buttonText ?? c.actionId },
        action_ts: c.actionTs ?? `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
