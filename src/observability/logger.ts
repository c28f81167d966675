import pino, { type Logger } from 'pino';

export type { Logger };

// Paths pino must never print: Slack credentials, request signatures, kube credentials.
const REDACT_PATHS = [
  'token',
  '*.token',
  'signingSecret',
  '*.signingSecret',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'headers.authorization',
  'headers["x-slack-signature"]',
  '*.headers.authorization',
  '*.headers["x-slack-signature"]',
  'kubeconfig',
  '*.kubeconfig',
  'secret',
  '*.secret',
];

// Tokens also hide inside error messages and URLs (e.g. client-node echoes headers in ApiException.message),
// so string values are scrubbed by shape as well as by path.
const SECRET_SHAPES: RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]+/g,
  /xapp-[A-Za-z0-9-]+/g,
  /v0=[0-9a-f]{64}/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /("?(?:token|client-key-data|client-certificate-data)"?\s*[:=]\s*"?)[^\s",}]+/gi,
];

const extraSecrets = new Set<string>();

/** Registers a literal secret (signing secret, kube token) so it is scrubbed from any logged string. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) extraSecrets.add(value);
}

export function scrub(text: string): string {
  let out = text;
  for (const secret of extraSecrets) out = out.split(secret).join('[Redacted]');
  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape, (_m, prefix?: string) =>
      typeof prefix === 'string' ? `${prefix}[Redacted]` : '[Redacted]',
    );
  }
  return out;
}

function scrubError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  return { type: err.name, message: scrub(err.message), stack: err.stack ? scrub(err.stack) : undefined };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'meshops' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      serializers: { err: scrubError, error: scrubError },
      hooks: {
        // Scrub free-text log messages too: a message is where an unexpected error string lands.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
