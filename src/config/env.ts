import { existsSync } from 'node:fs';
import { z } from 'zod';
import { RedisSettingsError, redisTarget } from './redis.ts';
import { formatIssues } from './strict.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  SLACK_SIGNING_SECRET: z.string().min(8, 'is too short to be a Slack signing secret').optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, 'must be a bot token starting with xoxb-')
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token starting with xapp-')
    .optional(),
  SLACK_API_URL: z.url({ error: 'must be an http(s) URL' }).default('https://slack.com/api/'),
  // Parsed by redisTarget (config/redis.ts), which also reads the REDIS_SENTINEL* and REDIS_TLS_CA variables.
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_NAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_TLS_CA: z.string().optional(),
  /** Replicas that must hold a command before it is acked; unset: 1 when the master has replicas, else 0. */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'may hold only letters, digits, _ and -')
    .default('meshops'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  OPS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  OPS_HOST: z.string().min(1).optional(),
  MESHOPS_CONFIG: z.string().min(1).default('./meshops.yaml'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

export type Role = 'app' | 'worker' | 'all';

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/**
 * Parses the process environment for a role. Problems name the variable and what is wrong, never its
 * value: a mistyped secret must not end up in a terminal or a log.
 */
export function parseEnv(source: NodeJS.ProcessEnv, role: Role): Env {
  const input = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(input, { reportInput: false });
  const problems = result.success
    ? []
    : formatIssues(result.error.issues, 'env').map((line) => line.replace(/^env: /, ''));
  const has = (key: string) => input[key] !== undefined;
  if (!has('SLACK_BOT_TOKEN')) {
    problems.push(
      'SLACK_BOT_TOKEN: is required (Slack app → OAuth & Permissions → Bot User OAuth Token, xoxb-…)',
    );
  }
  if (role !== 'worker' && !has('SLACK_SIGNING_SECRET') && !has('SLACK_APP_TOKEN')) {
    problems.push(
      'SLACK_SIGNING_SECRET: is required in HTTP mode (Slack app → Basic Information → Signing Secret); set SLACK_APP_TOKEN instead for Socket Mode',
    );
  }
  if (result.success && result.data.OPS_PORT !== 0 && result.data.OPS_PORT === result.data.PORT)
    problems.push(
      'OPS_PORT: must differ from PORT (/metrics and /readyz are never served on the public Slack port)',
    );
  try {
    redisTarget({ REDIS_URL: 'redis://127.0.0.1:6379', ...input });
  } catch (err) {
    if (!(err instanceof RedisSettingsError)) throw err;
    problems.push(err.message);
  }
  if (has('REDIS_TLS_CA') && !existsSync(String(input.REDIS_TLS_CA)))
    problems.push(`REDIS_TLS_CA: ${input.REDIS_TLS_CA} does not exist (a PEM file of the Redis CA)`);
  if (!result.success || problems.length > 0) throw new EnvError(problems);
  return result.data;
}
