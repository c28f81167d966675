import type {
  ActionsBlock,
  Button,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  KnownBlock,
  SectionBlock,
} from '@slack/types';
import { escapeMrkdwn, neutraliseFences, toMrkdwn } from '../../chat/mrkdwn.ts';

/** Slack's Block Kit limits (docs.slack.dev/reference/block-kit): exceeding any of them rejects the whole message. */
export const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  headerText: 150,
  fieldText: 2000,
  fieldsPerSection: 10,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2000,
  messageText: 4000,
} as const;

/** Cuts text so that its escaped form (`<` becomes `&lt;`) stays within a limit, for text that goes into mrkdwn. */
export function clipEscaped(text: string, max: number): string {
  let cut = clip(text, max);
  for (let over = escapeMrkdwn(cut).length - max; over > 0; over = escapeMrkdwn(cut).length - max)
    cut = clip(text, cut.length - over);
  return cut;
}

/** Cuts text to a limit and says how much was left out, so nothing is ever cut silently. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = ` …(+${text.length - max} chars)`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: clip(text, LIMITS.headerText), emoji: true },
});

export const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(toMrkdwn(text) || ' ', LIMITS.sectionText) },
});

export const fields = (items: readonly string[]): SectionBlock => ({
  type: 'section',
  fields: items
    .slice(0, LIMITS.fieldsPerSection)
    .map((t) => ({ type: 'mrkdwn', text: clip(toMrkdwn(t) || ' ', LIMITS.fieldText) })),
});

export const context = (...texts: string[]): ContextBlock => ({
  type: 'context',
  elements: texts
    .slice(0, LIMITS.contextElements)
    .map((t) => ({ type: 'mrkdwn', text: clip(toMrkdwn(t) || ' ', LIMITS.sectionText) })),
});

export const divider = (): DividerBlock => ({ type: 'divider' });

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: clip(text, LIMITS.buttonText) },
    action_id: actionId,
    value: clip(value, LIMITS.buttonValue),
    ...(style ? { style } : {}),
  };
}

export const actions = (...elements: Button[]): ActionsBlock => ({ type: 'actions', elements });

/**
 * Packs lines into as few section blocks as fit, each under the section limit, for lists of any length
 * (2,000 pods must not make 2,000 blocks).
 */
export function linesToSections(lines: readonly string[], prefix = '', suffix = ''): SectionBlock[] {
  const budget = LIMITS.sectionText - prefix.length - suffix.length;
  const inCode = prefix.endsWith('```');
  const out: SectionBlock[] = [];
  let current: string[] = [];
  let size = 0;
  for (const raw of lines) {
    const text = inCode ? neutraliseFences(raw) : raw;
    const line = clipEscaped(text, budget);
    const cost = escapeMrkdwn(line).length;
    if (size + cost + 1 > budget && current.length > 0) {
      out.push(section(prefix + current.join('\n') + suffix));
      current = [];
      size = 0;
    }
    current.push(line);
    size += cost + 1;
  }
  if (current.length > 0) out.push(section(prefix + current.join('\n') + suffix));
  return out;
}

/**
 * Splits blocks into messages of at most 50 blocks. The caller posts the first as the reply and the rest
 * as further replies, so long detail is moved, never dropped.
 */
export function splitMessages(blocks: readonly KnownBlock[], max = LIMITS.blocksPerMessage): KnownBlock[][] {
  const out: KnownBlock[][] = [];
  for (let i = 0; i < blocks.length; i += max) out.push(blocks.slice(i, i + max));
  return out.length > 0 ? out : [[]];
}
