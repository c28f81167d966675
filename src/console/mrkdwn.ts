import { emojiFor } from './emoji.ts';

/** Turns the IDs Slack text carries (`<@U…>`, `<#C…>`) into the names a reader sees. */
export interface Names {
  user(id: string): string | undefined;
  channel(id: string): string | undefined;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Slack escapes only these three in message text (docs.slack.dev/messaging/formatting-message-text#escaping). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const asText = (text: string) => escapeHtml(unescapeSlack(text));

/** Shortcodes Slack knows become emoji; unknown ones stay as typed, like Slack shows them. */
export function emojify(html: string): string {
  return html.replace(/:([a-z0-9_+'-]+):/g, (code, name: string) => emojiFor(name) ?? code);
}

export function plainTextToHtml(text: string, emoji = true): string {
  const html = asText(text).replace(/\n/g, '<br>');
  return emoji ? emojify(html) : html;
}

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

/** One `<…>` token: a mention, a channel, a special mention, a date, or a link; anything else stays visible. */
function angleToken(inner: string, names: Names): string {
  const [target = '', label] = splitOnce(inner, '|');
  const mention = (text: string) => `<span class="mention">${escapeHtml(text)}</span>`;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return mention(`@${names.user(id) ?? label ?? id}`);
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return mention(`#${names.channel(id) ?? label ?? id}`);
  }
  if (target === '!here' || target === '!channel' || target === '!everyone')
    return mention(`@${target.slice(1)}`);
  if (target.startsWith('!subteam^')) return mention(label ?? `@${target.slice('!subteam^'.length)}`);
  if (target.startsWith('!date^') && label !== undefined) return asText(label);
  if (SAFE_LINK.test(target)) {
    const href = escapeHtml(unescapeSlack(target));
    return `<a href="${href}" target="_blank" rel="noopener noreferrer">${asText(label ?? target)}</a>`;
  }
  return asText(`<${inner}>`);
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

// Slack formats *bold*, _italic_ and ~strike~ only when the markers stand at word boundaries, so snake_case
// names and globs like *.svc.cluster.local stay as they are — also inside a formatted span, where a marker
// between two word characters (_Calico veth_mtu_) neither opens nor closes anything.
const formatting = (marker: string, tag: string) => {
  const m = `\\${marker}`;
  const inner = `(?:[^${m}\\n]|(?<=\\w)${m}(?=\\w))`;
  return {
    pattern: new RegExp(`(^|[^\\w${m}])${m}(?=\\S)(${inner}*?[^\\s${m}])${m}(?![\\w${m}])`, 'g'),
    replace: `$1<${tag}>$2</${tag}>`,
  };
};
const FORMATS = [formatting('*', 'b'), formatting('_', 'i'), formatting('~', 's')];

/** Lines starting with `>` (escaped `&gt;` by now) are a quote, as in Slack. */
function quotes(html: string): string {
  const out: string[] = [];
  let quoted: string[] = [];
  const flush = () => {
    if (quoted.length > 0) out.push(`<blockquote>${quoted.join('<br>')}</blockquote>`);
    quoted = [];
  };
  for (const line of html.split('\n')) {
    if (line.startsWith('&gt;')) quoted.push(line.slice(4).replace(/^ /, ''));
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

/**
 * Slack's mrkdwn as HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, links, mentions as names and
 * emoji shortcodes. Text inside code is shown literally. Every character of the input is either rendered or shown.
 */
export function mrkdwnToHtml(text: string, names: Names): string {
  // Rendered pieces wait behind private-use placeholders so later passes cannot touch their HTML.
  const kept: string[] = [];
  const keep = (html: string) => `\uE000${kept.push(html) - 1}\uE001`;
  let s = text.replace(/[\uE000\uE001]/g, '');
  s = s.replace(/```([\s\S]*?)```/g, (_, body: string) =>
    keep(`<pre>${asText(body.replace(/^\n|\n$/g, ''))}</pre>`),
  );
  s = s.replace(/`([^`\n]+)`/g, (_, body: string) => keep(`<code>${asText(body)}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner: string) => keep(angleToken(inner, names)));
  s = asText(s);
  for (const f of FORMATS) s = s.replace(f.pattern, f.replace);
  s = quotes(emojify(s)).replace(/\n/g, '<br>');
  return s.replace(/\uE000(\d+)\uE001/g, (_, i: string) => kept[Number(i)]!);
}
