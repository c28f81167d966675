import type { Server } from 'node:http';
import { App, HTTPReceiver, type Receiver, type RespondFn } from '@slack/bolt';
import type { Permissions } from '../access/permissions.ts';
import type { RateDecision } from '../access/rate-limit.ts';
import type { ReplyPort } from '../chat/reply.ts';
import { boltLogger } from '../observability/bolt-logger.ts';
import { type Route, startOpsServer } from '../observability/http.ts';
import type { Logger } from '../observability/logger.ts';
import type { Producer } from '../queue/producer.ts';
import { QueueUnavailableError } from '../queue/producer.ts';
import { helpText, type ParseContext, parseCommand } from './parse-command.ts';
import { MEMBERSHIP_ERRORS, SlackApiError } from './poster.ts';
import { queuedMessage, unavailableMessage } from './render/parent.ts';
import { createSocketMode, type SocketMode, type SocketModeOptions } from './socket/receiver.ts';

export interface SlackAppDeps {
  /** HTTP mode: Slack posts to /slack/events, signed with this secret. */
  signingSecret?: string;
  /** Socket Mode (SLACK_APP_TOKEN set): the app dials out to Slack and needs no inbound /slack/events. */
  socketMode?: Omit<SocketModeOptions, 'apiUrl' | 'log'>;
  botToken: string;
  apiUrl: string;
  log: Logger;
  producer: Producer;
  poster: ReplyPort;
  permissions: Permissions;
  parseContext: ParseContext;
  /** /healthz, /readyz, /metrics, served beside /slack/events. */
  routes: Route[];
  /** Per-user limit on queued commands. */
  rateLimit: (user: string) => Promise<RateDecision>;
  /** Called for every command outcome, for metrics. */
  onCommand?: (subcommand: string, outcome: string) => void;
  /** Called when a change request is refused for lack of rights, for the audit trail. */
  onForbidden?: (refusal: { user: string; channel: string; text: string; reason: string }) => void;
}

export interface SlackApp {
  app: App;
  /** Set in Socket Mode: connection state for /readyz, counters for metrics. */
  socketMode?: SocketMode;
  start(port: number, host?: string): Promise<Server>;
  stop(): Promise<void>;
}

const INVITE_ADVICE =
  "I can't post in this channel. Invite me with `/invite @meshops` (in a private channel, open the channel details → Integrations → Add apps), then run the command again.";

async function ephemeral(respond: RespondFn, text: string, log: Logger): Promise<void> {
  try {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (err) {
    log.warn({ err }, 'could not send an ephemeral reply');
  }
}

export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { log } = deps;

  const socketMode = deps.socketMode
    ? createSocketMode({ ...deps.socketMode, apiUrl: deps.apiUrl, log })
    : undefined;
  // In Socket Mode the ops routes get their own small server (start below); in HTTP mode they sit beside Bolt's.
  let receiver: Receiver;
  if (socketMode) receiver = socketMode;
  else if (deps.signingSecret)
    receiver = new HTTPReceiver({
      signingSecret: deps.signingSecret,
      logger: boltLogger(log),
      customRoutes: deps.routes,
    });
  else
    throw new Error('the Slack app needs a signing secret (HTTP mode) or an app-level token (Socket Mode)');

  const app = new App({
    receiver,
    // A fixed authorize avoids the auth.test call Bolt would otherwise make before the first ack.
    authorize: async () => ({ botToken: deps.botToken }),
    ignoreSelf: false,
    logger: boltLogger(log),
    clientOptions: {
      slackApiUrl: deps.apiUrl,
      timeout: 2500,
      retryConfig: { retries: 1, minTimeout: 100, maxTimeout: 500 },
      rejectRateLimitedCalls: true,
    },
  });

  app.command('/mesh', async ({ command, ack, respond }) => {
    const reqLog = log.child({
      user: command.user_id,
      channel: command.channel_id,
      trigger: command.trigger_id,
    });
    const parsed = parseCommand(command.text, deps.parseContext);
    if (!parsed.ok) {
      if (parsed.help) {
        await ack({ response_type: 'ephemeral', text: helpText() });
        deps.onCommand?.('help', 'help');
        return;
      }
      const usage = parsed.usage
        ? `\nUsage:\n\`\`\`${parsed.usage}\`\`\``
        : '\nType `/mesh help` for every command.';
      await ack({ response_type: 'ephemeral', text: `:warning: ${parsed.error}${usage}` });
      reqLog.info({ text: command.text, error: parsed.error }, 'command refused');
      deps.onCommand?.('invalid', 'refused');
      return;
    }
    const sub = parsed.spec.words.join(' ');
    if (parsed.spec.access === 'operator' && !(await deps.permissions.isOperator(command.user_id))) {
      await ack({
        response_type: 'ephemeral',
        text: `:no_entry: \`${parsed.spec.usage}\` may be requested only by operators (access.operators). Ask an operator to run it.`,
      });
      deps.onCommand?.(sub, 'forbidden');
      deps.onForbidden?.({
        user: command.user_id,
        channel: command.channel_id,
        text: `/mesh ${command.text.trim()}`,
        reason: 'not in access.operators',
      });
      return;
    }
    if (!(await deps.permissions.isViewer(command.user_id))) {
      await ack({
        response_type: 'ephemeral',
        text: ':no_entry: You are not in access.viewers, so meshops will not run commands for you.',
      });
      deps.onCommand?.(sub, 'forbidden');
      return;
    }
    // Everything that needs Redis or Slack happens after the ack, so a slow dependency never costs the 3 s.
    await ack();
    const rate = await deps.rateLimit(command.user_id);
    if (!rate.ok) {
      await ephemeral(
        respond,
        `:raised_hand: You have run ${rate.limit} commands in the last ${Math.round(rate.perMs / 1000)} s, the most meshops takes from one person. Try again in ${Math.ceil(rate.retryInMs / 1000)} s.`,
        reqLog,
      );
      deps.onCommand?.(sub, 'rate_limited');
      return;
    }

    const text = `/mesh ${command.text.trim()}`;
    let parentTs: string;
    try {
      parentTs = (
        await deps.poster.post({ channel: command.channel_id, ...queuedMessage(text, command.user_id) })
      ).ts;
    } catch (err) {
      const membership = err instanceof SlackApiError && MEMBERSHIP_ERRORS.has(err.code);
      reqLog.warn({ err }, 'could not post the parent message');
      await ephemeral(
        respond,
        membership
          ? `:warning: ${INVITE_ADVICE} (Slack said \`${(err as SlackApiError).code}\`)`
          : ':x: Slack did not accept my message; nothing was queued. Try again shortly.',
        reqLog,
      );
      deps.onCommand?.(sub, membership ? 'not_in_channel' : 'slack_error');
      return;
    }
    try {
      const jobId = await deps.producer.enqueue(
        {
          type: 'command',
          command: parsed.command,
          text,
          user: command.user_id,
          channel: command.channel_id,
          parentTs,
          requestedAt: Date.now(),
        },
        { writes: parsed.spec.writes },
      );
      reqLog.info({ jobId, command: parsed.command.kind }, 'command queued');
      deps.onCommand?.(sub, 'queued');
    } catch (err) {
      reqLog.error({ err }, 'could not queue the command');
      const reason = err instanceof QueueUnavailableError ? err.message : 'the job could not be queued';
      await deps.poster
        .update({ channel: command.channel_id, ts: parentTs, ...unavailableMessage(text, command.user_id) })
        .catch(() => {});
      await ephemeral(respond, `:x: Not queued: ${reason}. Nothing was run; try again in a minute.`, reqLog);
      deps.onCommand?.(sub, 'queue_unavailable');
    }
  });

  // Buttons carry the id of what they act on; the worker decides (approver? expired? already applied?).
  app.action(/^mesh\./, async ({ ack, body, action, respond }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button' || !('action_id' in action)) return;
    const channel = body.container?.channel_id ?? body.channel?.id;
    const messageTs = body.container?.message_ts ?? body.message?.ts;
    if (!channel || !messageTs) return;
    try {
      await deps.producer.enqueue(
        {
          type: 'action',
          action: action.action_id,
          value: action.value ?? '',
          user: body.user.id,
          channel,
          messageTs,
          actionTs: action.action_ts,
          requestedAt: Date.now(),
        },
        { writes: true, jobId: `click-${action.action_ts.replace('.', '-')}-${body.user.id}` },
      );
    } catch (err) {
      log.error({ err, action: action.action_id }, 'could not queue a button click');
      if (respond)
        await ephemeral(
          respond,
          ':x: Not recorded: the job queue (Redis) is unavailable. Click again in a minute.',
          log,
        );
    }
  });

  let opsServer: Server | undefined;
  return {
    app,
    ...(socketMode ? { socketMode } : {}),
    async start(port, host) {
      if (!socketMode) return (await app.start({ port, ...(host ? { host } : {}) })) as Server;
      const server = await startOpsServer(port, host, deps.routes);
      try {
        await app.start();
      } catch (err) {
        server.close();
        throw err;
      }
      opsServer = server;
      return server;
    },
    async stop() {
      await app.stop();
      if (opsServer) await new Promise<void>((resolve) => opsServer?.close(() => resolve()));
    },
  };
}
