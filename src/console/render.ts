import { escapeHtml, mrkdwnToHtml, type Names, plainTextToHtml } from './mrkdwn.ts';

/**
 * Block Kit as HTML, for the console. The bot's blocks are untrusted input here: every block and element the
 * console does not know, or that is malformed, is shown raw as JSON — never dropped, so nothing the bot sends can
 * go unseen in the demo.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function raw(value: unknown, why: string): string {
  return `<div class="bk-raw"><div class="bk-raw-why">${escapeHtml(why)} — shown as sent</div><pre>${escapeHtml(
    JSON.stringify(value, null, 2),
  )}</pre></div>`;
}

function textObject(value: unknown, names: Names): string | undefined {
  if (!isObj(value) || typeof value.text !== 'string') return undefined;
  if (value.type === 'mrkdwn') return mrkdwnToHtml(value.text, names);
  if (value.type === 'plain_text') return plainTextToHtml(value.text, value.emoji !== false);
  return undefined;
}

/** A Block Kit confirmation dialog, carried on the button for the page to show before it sends the click. */
function confirmDialog(value: unknown, names: Names): Obj | undefined {
  if (!isObj(value)) return undefined;
  const plain = (v: unknown, fallback: string) =>
    isObj(v) && typeof v.text === 'string' ? v.text : fallback;
  return {
    title: plain(value.title, 'Are you sure?'),
    html: textObject(value.text, names) ?? '',
    confirm: plain(value.confirm, 'Yes'),
    deny: plain(value.deny, 'Cancel'),
  };
}

function element(value: unknown, blockId: string, names: Names): string {
  if (!isObj(value)) return raw(value, 'not an element');
  if (value.type === 'image') {
    return `<span class="bk-image" title="image">${escapeHtml(String(value.alt_text ?? 'image'))}</span>`;
  }
  if (value.type === 'button' && typeof value.action_id === 'string') {
    const label = textObject(value.text, names);
    if (label === undefined) return raw(value, 'button without a text object');
    const style = value.style === 'primary' || value.style === 'danger' ? ` bk-${value.style}` : '';
    const confirm = confirmDialog(value.confirm, names);
    const attrs = [
      `class="bk-button${style}"`,
      `data-block-id="${escapeHtml(blockId)}"`,
      `data-action-id="${escapeHtml(value.action_id)}"`,
      ...(confirm ? [`data-confirm="${escapeHtml(JSON.stringify(confirm))}"`] : []),
      ...(typeof value.url === 'string' ? [`data-url="${escapeHtml(value.url)}"`] : []),
    ];
    return `<button type="button" ${attrs.join(' ')}>${label}</button>`;
  }
  const text = textObject(value, names);
  if (text !== undefined) return `<span class="bk-element">${text}</span>`;
  return raw(value, `element "${String(value.type)}" is not rendered by the console`);
}

/** Slack gives a block without `block_id` one of its own; the console derives a stable one from the position. */
export function blockIdOf(block: unknown, index: number): string {
  return isObj(block) && typeof block.block_id === 'string' ? block.block_id : `b${index}`;
}

function block(value: unknown, index: number, names: Names): string {
  if (!isObj(value)) return raw(value, 'not a block');
  const id = blockIdOf(value, index);
  switch (value.type) {
    case 'header': {
      const text = textObject(value.text, names);
      return text === undefined ? raw(value, 'header without text') : `<div class="bk-header">${text}</div>`;
    }
    case 'section': {
      const text = value.text === undefined ? undefined : textObject(value.text, names);
      const fields = Array.isArray(value.fields) ? value.fields.map((f) => textObject(f, names)) : [];
      if ((value.text !== undefined && text === undefined) || fields.some((f) => f === undefined))
        return raw(value, 'section with a malformed text object');
      if (text === undefined && fields.length === 0) return raw(value, 'section without text or fields');
      const body = [
        ...(text !== undefined ? [`<div class="bk-text">${text}</div>`] : []),
        ...(fields.length > 0
          ? [`<div class="bk-fields">${fields.map((f) => `<div class="bk-field">${f}</div>`).join('')}</div>`]
          : []),
      ].join('');
      const accessory =
        value.accessory === undefined
          ? ''
          : `<div class="bk-accessory">${element(value.accessory, id, names)}</div>`;
      return `<div class="bk-section"><div class="bk-section-body">${body}</div>${accessory}</div>`;
    }
    case 'context': {
      if (!Array.isArray(value.elements)) return raw(value, 'context without elements');
      return `<div class="bk-context">${value.elements.map((e) => element(e, id, names)).join('')}</div>`;
    }
    case 'divider':
      return '<hr class="bk-divider">';
    case 'actions': {
      if (!Array.isArray(value.elements)) return raw(value, 'actions without elements');
      return `<div class="bk-actions">${value.elements.map((e) => element(e, id, names)).join('')}</div>`;
    }
    default:
      return raw(value, `block "${String(value.type)}" is not rendered by the console`);
  }
}

/** A shared file: images inline as Slack shows them, anything else as its name. */
function fileHtml(file: { title: string; mimetype: string; url: string; alt?: string }): string {
  if (file.mimetype.startsWith('image/'))
    return `<figure class="msg-file"><img src="${escapeHtml(file.url)}" alt="${escapeHtml(file.alt ?? file.title)}"><figcaption>${escapeHtml(file.title)}</figcaption></figure>`;
  return `<div class="msg-file">📎 ${escapeHtml(file.title)}</div>`;
}

/** A message as Slack shows it: its blocks when it has any, otherwise its text as mrkdwn; then its files. */
export function messageToHtml(
  message: {
    text: string;
    blocks: readonly unknown[];
    files?: readonly { title: string; mimetype: string; url: string; alt?: string }[];
  },
  names: Names,
): string {
  const body =
    message.blocks.length === 0 && !(message.files?.length && !message.text)
      ? `<div class="bk-text">${mrkdwnToHtml(message.text, names)}</div>`
      : message.blocks.map((b, i) => block(b, i, names)).join('');
  return body + (message.files ?? []).map(fileHtml).join('');
}

/** The button a click names, looked up in the stored message: the page never decides what a button's value is. */
export function findButton(
  blocks: readonly unknown[],
  blockId: string,
  actionId: string,
): { value: string; text: string } | undefined {
  for (const [i, b] of blocks.entries()) {
    if (!isObj(b) || blockIdOf(b, i) !== blockId) continue;
    const candidates = b.type === 'actions' && Array.isArray(b.elements) ? b.elements : [b.accessory];
    for (const e of candidates) {
      if (isObj(e) && e.type === 'button' && e.action_id === actionId) {
        const text = isObj(e.text) && typeof e.text.text === 'string' ? e.text.text : actionId;
        return { value: typeof e.value === 'string' ? e.value : '', text };
      }
    }
  }
  return undefined;
}
