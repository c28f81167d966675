import { randomBytes } from 'node:crypto';

/**
 * Text conventions of the messages meshops writes (Slack's mrkdwn), shared by the renderers and the domain's
 * plain-words lines that end up in messages.
 *
 * The one way text reaches Slack mrkdwn. Every section, field and context block and every message's `text`
 * goes through `toMrkdwn`, which escapes `&`, `<` and `>` in all of it: a value from a cluster, a preset, an
 * error or a user (`<!channel>`, `<https://evil.example|Approve here>`) is shown, never obeyed.
 *
 * The only markup that survives is what meshops itself builds with `userRef`, `channelRef`, `groupRef` and
 * `dateRef`: they wrap the token in markers keyed by a random per-process secret that no text from outside
 * can know, so outside text cannot forge them.
 */

const KEY = randomBytes(9).toString('base64url');
const OPEN = `\uE000${KEY}\uE001`;
const CLOSE = `\uE002${KEY}\uE003`;
// Markers from another process (a string stored in Redis and rendered elsewhere) lose their markup, not their text.
const STALE = /[\uE000\uE002][A-Za-z0-9_-]{12}[\uE001\uE003]/g;

const token = (inner: string) => `${OPEN}${inner}${CLOSE}`;

/** Escapes text for mrkdwn without trusting any marker in it: for values placed outside `toMrkdwn`. */
export const escapeMrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Escapes everything, then turns meshops' own tokens back into markup. */
export function toMrkdwn(text: string): string {
  return escapeMrkdwn(text).split(OPEN).join('<').split(CLOSE).join('>').replace(STALE, '');
}

const USER = /^[UW][A-Z0-9]+$/;
const CHANNEL = /^[CGD][A-Z0-9]+$/;
const GROUP = /^S[A-Z0-9]+$/;

/** A Slack user id (U…, W…), as opposed to meshops itself or another name. */
export const isUserId = (id: string) => USER.test(id);

/** A user mention; anything that is not a Slack user id is shown as text. */
export const userRef = (id: string) => (USER.test(id) ? token(`@${id}`) : id);
export const channelRef = (id: string) => (CHANNEL.test(id) ? token(`#${id}`) : id);
export const groupRef = (id: string) => (GROUP.test(id) ? token(`!subteam^${id}`) : id);

/** A link meshops builds itself (an https URL); the label is shown as text. */
export const linkRef = (url: string, label: string) =>
  /^https:\/\/[^\s<>|]+$/.test(url) ? token(`${url}|${escapeMrkdwn(label)}`) : label;

/** A count with its noun in the right number: "1 target", "3 targets", "2 addresses". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A time in the one form meshops writes where Slack cannot localise it: "2026-12-03 14:25 UTC". */
export const utcText = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A time every reader sees in their own time zone, with the UTC form as the fallback for notifications. */
export const dateRef = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return token(`!date^${s}^{date_short_pretty} {time}|${utcText(ms)}`);
};

// A token as any process wrote it (text kept in Redis may come from another worker, with another key).
const ANY_TOKEN = /\uE000[A-Za-z0-9_-]{12}\uE001(.*?)\uE002[A-Za-z0-9_-]{12}\uE003/g;

const unescapeMrkdwn = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * meshops' text as plain words, for what renders no mrkdwn (a chart's image, a file's alt text): a mention
 * becomes the name `userName` gives (Slack cannot resolve `<@U…>` there), a date its UTC form, a link its label.
 */
export async function toPlainText(text: string, userName: (id: string) => Promise<string>): Promise<string> {
  const tokens = [...text.matchAll(ANY_TOKEN)].map((m) => m[1] ?? '');
  const users = [...new Set(tokens.filter((t) => t.startsWith('@')).map((t) => t.slice(1)))];
  const names = new Map(await Promise.all(users.map(async (u) => [u, await userName(u)] as const)));
  return text.replace(ANY_TOKEN, (_, inner: string) => {
    if (inner.startsWith('@')) return names.get(inner.slice(1)) ?? inner.slice(1);
    if (inner.startsWith('!subteam^')) return inner.slice('!subteam^'.length);
    // Dates and links: the part after the bar is what Slack shows where it cannot render the token.
    const bar = inner.indexOf('|');
    return bar >= 0 ? unescapeMrkdwn(inner.slice(bar + 1)) : inner;
  });
}

/** A fenced code block whose body cannot close the fence early, for any chat surface that renders ``` fences. */
export const codeBlock = (body: string) => `\`\`\`${neutraliseFences(body)}\`\`\``;

/** A zero-width space breaks ``` so text inside a code block cannot end it. */
export const neutraliseFences = (text: string) => text.replace(/```/g, '`\u200b``');

/**
 * Lists longer than this end with a line saying how many were left out and where to see them, so one reply
 * stays readable (the worker moves blocks past 50 into further replies).
 */
export const MAX_LIST_LINES = 150;
