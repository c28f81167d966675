import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { blockActionsBody, signedHeaders, slashCommandBody } from '../../src/console/sign.ts';
import { type SlackApiStub, type StoredMessage, startSlackApi } from '../../src/console/slack-api.ts';
import type { Handlers } from '../../src/jobs/types.ts';
import { type Meshops, type StartOptions, startMeshops } from '../../src/runtime.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from './redis.ts';
import { waitFor } from './wait.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-0000000000-abcdefghijklmnop';

/** Captures the JSON log lines of a run, so tests can read what meshops logged (and that secrets are absent). */
export class LogSink extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface Harness {
  slack: SlackApiStub;
  meshops: Meshops;
  prefix: string;
  logs: LogSink;
  /** Sends a signed `/mesh …` as Slack would; resolves with the HTTP status and body of the ack. */
  command(
    text: string,
    opts?: { user?: string; channel?: string; responseId?: string },
  ): Promise<{ status: number; body: string; responseId: string; ms: number }>;
  click(opts: {
    user: string;
    channel: string;
    messageTs: string;
    actionId: string;
    value: string;
  }): Promise<{ status: number; responseId: string }>;
  /** The channel's top-level messages, newest last. */
  parents(channel: string): StoredMessage[];
  thread(channel: string, ts: string): StoredMessage[];
  /** Waits until the parent for `text` shows a final state (a verdict or failed). */
  waitForVerdict(channel: string, contains: string, timeoutMs?: number): Promise<StoredMessage>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  configYaml: string;
  configDir?: string;
  handlers?: Handlers;
  role?: StartOptions['role'];
  start?: Partial<StartOptions>;
  label?: string;
  redisUrl?: string;
  /** An already started fake Web API (e.g. one a Socket Mode fake has extended); the harness closes it. */
  slack?: SlackApiStub;
  /** Extra environment, e.g. SLACK_APP_TOKEN for Socket Mode. */
  env?: Record<string, string>;
}

let responseSeq = 0;

/** Sends a signed `/mesh …` to the app at `url` as Slack would; resolves with the ack's status, body and time. */
export async function sendCommand(
  url: string,
  c: { text: string; user: string; channel: string; responseUrl: string },
): Promise<{ status: number; body: string; ms: number }> {
  const body = slashCommandBody({
    command: '/mesh',
    text: c.text,
    userId: c.user,
    userName: c.user.toLowerCase(),
    channelId: c.channel,
    channelName: 'mesh-ops',
    responseUrl: c.responseUrl,
  });
  const started = performance.now();
  const res = await fetch(`${url}/slack/events`, {
    method: 'POST',
    headers: signedHeaders(SIGNING_SECRET, body),
    body,
  });
  return { status: res.status, body: await res.text(), ms: performance.now() - started };
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const slack = options.slack ?? (await startSlackApi());
  const prefix = uniquePrefix(options.label ?? 'h');
  const logs = new LogSink();
  const dir = options.configDir ?? (await mkdtemp(join(tmpdir(), 'meshops-test-')));
  const env = parseEnv(
    {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.url,
      REDIS_URL: options.redisUrl ?? REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'debug',
      ...options.env,
    },
    options.role ?? 'all',
  );
  const config = parseConfig(options.configYaml, join(dir, 'meshops.yaml'), dir);
  const meshops = await startMeshops({
    role: options.role ?? 'all',
    env,
    config,
    host: '127.0.0.1',
    logDestination: logs,
    ...(options.handlers ? { handlers: options.handlers } : {}),
    ...options.start,
  });

  async function post(body: string, headers: Record<string, string>) {
    const started = performance.now();
    const res = await fetch(`${meshops.url}/slack/events`, { method: 'POST', headers, body });
    return { status: res.status, body: await res.text(), ms: performance.now() - started };
  }

  const harness: Harness = {
    slack,
    meshops,
    prefix,
    logs,
    async command(text, opts = {}) {
      const responseId = opts.responseId ?? `r${++responseSeq}`;
      const body = slashCommandBody({
        command: '/mesh',
        text,
        userId: opts.user ?? 'U0ALICE',
        userName: 'alice',
        channelId: opts.channel ?? 'C0MESHOPS',
        channelName: 'mesh-ops',
        responseUrl: slack.responseUrl(responseId),
      });
      return { ...(await post(body, signedHeaders(SIGNING_SECRET, body))), responseId };
    },
    async click(opts) {
      const responseId = `c${++responseSeq}`;
      const body = blockActionsBody({
        userId: opts.user,
        userName: opts.user.toLowerCase(),
        channelId: opts.channel,
        messageTs: opts.messageTs,
        actionId: opts.actionId,
        value: opts.value,
        responseUrl: slack.responseUrl(responseId),
      });
      const res = await post(body, signedHeaders(SIGNING_SECRET, body));
      return { status: res.status, responseId };
    },
    parents: (channel) =>
      slack.messages.filter((m) => m.channel === channel && !m.thread_ts && !m.ephemeralFor),
    thread: (channel, ts) => slack.messages.filter((m) => m.channel === channel && m.thread_ts === ts),
    waitForVerdict(channel, contains, timeoutMs = 15_000) {
      return waitFor(
        `a final parent message containing "${contains}" in ${channel}`,
        () =>
          harness
            .parents(channel)
            .find(
              (m) =>
                m.text.includes(contains) && !/— (queued|:hourglass_flowing_sand: running)$/.test(m.text),
            ),
        timeoutMs,
      );
    },
    async close() {
      await meshops.stop();
      await slack.close();
      await dropPrefix(prefix, options.redisUrl ?? REDIS_URL).catch(() => {});
    },
  };
  return harness;
}

export { freePort } from '../../src/demo/redis.ts';

/**
 * A loopback port that refuses connections for the whole run. The tests' own servers listen on port 0, which the
 * kernel serves from the ephemeral range (32768 and up), so a privileged port is never handed to one of them. A
 * released ephemeral port was: a "refused" kubeconfig once met another test's plain-HTTP server and read a TLS error.
 * Not 1: fetch refuses the ports on its "bad ports" list before connecting.
 */
export const REFUSED_PORT = 2;

/** A kubeconfig for a server that is not there: every call is refused. */
export function unreachableKubeconfig(dir: string, name: string, port = REFUSED_PORT): string {
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: https://127.0.0.1:${port}
    insecure-skip-tls-verify: true
users:
- name: ${name}
  user:
    token: unreachable-token
contexts:
- name: ${name}
  context: {cluster: ${name}, user: ${name}}
current-context: ${name}
`,
  );
  return path;
}

/**
 * A config folder for icp (primary) and iks (remote) whose API servers are not there, for tests of the Slack
 * path that need clusters configured but never reached. `extra` is appended to the YAML.
 */
export function unreachableMesh(label: string, extra = ''): { dir: string; configYaml: string } {
  const dir = mkdtempSync(join(tmpdir(), `meshops-${label}-`));
  unreachableKubeconfig(dir, 'icp');
  unreachableKubeconfig(dir, 'iks');
  return {
    dir,
    configYaml: `
clusters:
  - name: icp
    role: primary
    kubeconfig: ./icp.kubeconfig
  - name: iks
    role: remote
    kubeconfig: ./iks.kubeconfig
${extra}`,
  };
}
