import type { Server } from 'node:http';
import { App, HTTPReceiver, type Receiver, type RespondFn } from '@slack/bolt';
import type { Permissions } from '../access/permissions.ts';
import type { RateDecision } from '../access/rate-limit.ts';
import { APPROVE_ACTION, REJECT_ACTION, WITHDRAW_ACTION } from '../approvals/types.ts';
import { toMrkdwn } from '../chat/mrkdwn.ts';
import { boltLogger } from '../observability/bolt-logger.ts';
import { type Route, startOpsServer } from '../observability/http.ts';
import type { Logger } from '../observability/logger.ts';
import type { Admission, Admitter } from '../queue/admit.ts';
import { QueueUnavailableError, withTimeout } from '../queue/producer.ts';
import { helpText, type ParseContext, parseCommand } from './parse-command.ts';
import { joinedText } from './render/parent.ts';
import { createSocketMode, type SocketMode, type SocketModeOptions } from './socket/receiver.ts';

export interface SlackAppDeps {
  /** HTTP mode: Slack posts to /slack/events, signed with this secret. */
  signingSecret?: string;
  /** Socket Mode (SLACK_APP_TOKEN set): the app dials out to Slack and needs no inbound /slack/events. */
  socketMode?: Omit<SocketModeOptions, 'apiUrl' | 'log'>;
  botToken: string;
  apiUrl: string;
  log: Logger;
  /** Slash commands and button clicks are made durable through it before the ack. */
  admitter: Admitter;
  permissions: Permissions;
  parseContext: ParseContext;
  /** /healthz, /readyz, /metrics, served beside /slack/events. */
  routes: Route[];
  /** Per-user limit on queued commands. */
  rateLimit: (user: string) => Promise<RateDecision>;
  /** How long the limit is asked before the request goes through unchecked (default RATE_CHECK_TIMEOUT_MS). */
  rateCheckTimeoutMs?: number;
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

/** The per-user limit is a courtesy: when Redis is slow it lets the request through rather than spend the ack. */
const RATE_CHECK_TIMEOUT_MS = 300;

function notQueuedReason(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const reason = err instanceof QueueUnavailableError ? err.message : 'the job could not be queued';
  return cause ? `${reason} (${cause})` : reason;
}

/** A link to the run's message, when Slack told us the workspace's domain and the message exists. */
function threadUrl(
  teamDomain: string | undefined,
  channel: string,
  ts: string | undefined,
): string | undefined {
  if (!teamDomain || !ts || !/^[a-z0-9-]+$/.test(teamDomain)) return undefined;
  return `https://${teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

/** The only buttons meshops posts. */
const BUTTONS: ReadonlySet<string> = new Set([APPROVE_ACTION, REJECT_ACTION, WITHDRAW_ACTION]);

function rateLimitedText(rate: Extract<RateDecision, { ok: false }>, what: 'commands' | 'clicks'): string {
  return `:raised_hand: You have sent ${rate.limit} commands and clicks in the last ${Math.round(rate.perMs / 1000)} s, the most meshops takes from one person. Try again in ${Math.ceil(rate.retryInMs / 1000)} s${what === 'clicks' ? '; this click was not recorded' : ''}.`;
}

async function ephemeral(respond: RespondFn, text: string, log: Logger): Promise<void> {
  try {
    await respond({ response_type: 'ephemeral', replace_original: false, text: toMrkdwn(text) });
  } catch (err) {
    log.warn({ err }, 'could not send an ephemeral reply');
  }
}

export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { log } = deps;
  // Asked before the ack, within a bound; a Redis that does not answer (or fails) lets the request through.
  const rateOf = (user: string): Promise<RateDecision> =>
    withTimeout(deps.rateLimit(user), deps.rateCheckTimeoutMs ?? RATE_CHECK_TIMEOUT_MS).catch(
      (): RateDecision => ({ ok: true }),
    );

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

  app.command('/mesh', async ({ command, ack: boltAck }) => {
    // Every ack's text leaves through toMrkdwn: meshops' own mentions and links render, outside text cannot.
    const ack = (reply?: { response_type: 'ephemeral'; text: string }) =>
      boltAck(reply ? { ...reply, text: toMrkdwn(reply.text) } : undefined);
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
    // Before the permission checks: a refusal costs a group lookup and an audit write, so refusals count too.
    const rate = await rateOf(command.user_id);
    if (!rate.ok) {
      await ack({ response_type: 'ephemeral', text: rateLimitedText(rate, 'commands') });
      deps.onCommand?.(sub, 'rate_limited');
      return;
    }
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

    const text = `/mesh ${command.text.trim()}`;
    let admission: Admission;
    try {
      admission = await deps.admitter.admit(
        {
          type: 'command',
          command: parsed.command,
          text,
          user: command.user_id,
          channel: command.channel_id,
          requestedAt: Date.now(),
          ...(command.response_url ? { responseUrl: command.response_url } : {}),
          ...(command.trigger_id ? { triggerId: command.trigger_id } : {}),
        },
        { writes: parsed.spec.writes, coalesce: parsed.spec.coalesce === true },
      );
    } catch (err) {
      reqLog.error({ err }, 'could not queue the command');
      await ack({
        response_type: 'ephemeral',
        text: `:x: Not queued: ${notQueuedReason(err)}. Nothing was run and nothing will be; try again in a minute.`,
      });
      deps.onCommand?.(sub, 'queue_unavailable');
      return;
    }
    if (admission.outcome === 'joined') {
      await ack({
        response_type: 'ephemeral',
        text: joinedText(
          text,
          admission.earlier,
          threadUrl(command.team_domain, command.channel_id, admission.parentTs),
        ),
      });
      reqLog.info({ jobId: admission.jobId, command: parsed.command.kind }, 'command joined a queued run');
      deps.onCommand?.(sub, 'joined');
      return;
    }
    await ack();
    reqLog.info({ jobId: admission.jobId, command: parsed.command.kind }, 'command queued');
    deps.onCommand?.(sub, 'queued');
  });

  // Buttons carry the id of what they act on; the worker decides (approver? expired? already applied?).
  // Every action in meshops' namespace reaches this listener, so an id it never posts is refused, not queued.
  app.action(/^mesh\./, async ({ ack, body, action, respond }) => {
    if (
      body.type !== 'block_actions' ||
      action.type !== 'button' ||
      !('action_id' in action) ||
      !BUTTONS.has(action.action_id)
    ) {
      await ack();
      // Internal jobs (approval expiry, drift verification, re-planning) share the action queue: never from Slack.
      log.warn(
        {
          user: body.user.id,
          action: 'action_id' in action ? action.action_id : undefined,
          type: action.type,
        },
        'refused an action meshops never posts',
      );
      deps.onCommand?.('action', 'refused');
      if (respond)
        await ephemeral(respond, ':no_entry: meshops does not take that action; nothing was done.', log);
      return;
    }
    const channel = body.container?.channel_id ?? body.channel?.id;
    const messageTs = body.container?.message_ts ?? body.message?.ts;
    if (!channel || !messageTs) {
      await ack();
      return;
    }
    const rate = await rateOf(body.user.id);
    if (!rate.ok) {
      await ack();
      log.info({ user: body.user.id, action: action.action_id }, 'button click rate-limited');
      if (respond) await ephemeral(respond, rateLimitedText(rate, 'clicks'), log);
      return;
    }
    // Like a command, a click is acked only once it is in Redis: a process killed after the ack loses nothing.
    let recorded = true;
    try {
      await deps.admitter.record({
        type: 'action',
        action: action.action_id,
        value: action.value ?? '',
        user: body.user.id,
        channel,
        messageTs,
        actionTs: action.action_ts,
        requestedAt: Date.now(),
      });
    } catch (err) {
      recorded = false;
      log.error({ err, action: action.action_id }, 'could not queue a button click');
    }
    await ack();
    if (!recorded && respond)
      await ephemeral(
        respond,
        ':x: Not recorded: the job queue (Redis) is unavailable. Click again in a minute.',
        log,
      );
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
