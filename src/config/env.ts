import { z } from 'zod';
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
  REDIS_URL: z
    .url({ error: 'must be a redis:// or rediss:// URL' })
    .refine((u) => /^rediss?:$/.test(new URL(u).protocol), 'must use redis:// or rediss://')
    .refine((u) => {
      const db = new URL(u).pathname.replace(/^\//, '');
      return db === '' || /^\d+$/.test(db);
    }, 'the path must be a database index such as /0')
    .default('redis://127.0.0.1:6379'),
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
  if (!result.success || problems.length > 0) throw new EnvError(problems);
  return result.data;
}

export function redisDb(url: string): number {
  const db = new URL(url).pathname.replace(/^\//, '');
  return db === '' ? 0 : Number(db);
}
