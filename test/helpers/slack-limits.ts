import type { KnownBlock } from '@slack/types';
import { LIMITS } from '../../src/slack/render/blocks.ts';

/** Every way a message would break one of Slack's Block Kit limits, as readable lines (none = fine). */
export function limitViolations(messages: readonly (readonly KnownBlock[])[], text?: string): string[] {
  const out: string[] = [];
  if (text !== undefined && text.length > LIMITS.messageText) out.push(`text has ${text.length} chars`);
  messages.forEach((blocks, m) => {
    if (blocks.length > LIMITS.blocksPerMessage) out.push(`message ${m} has ${blocks.length} blocks`);
    blocks.forEach((b, i) => {
      const where = `message ${m} block ${i} (${b.type})`;
      if (b.type === 'header' && b.text.text.length > LIMITS.headerText)
        out.push(`${where}: header of ${b.text.text.length}`);
      if (b.type === 'section') {
        if (b.text && b.text.text.length > LIMITS.sectionText)
          out.push(`${where}: ${b.text.text.length} chars`);
        if (b.text && b.text.text.trim() === '') out.push(`${where}: empty text`);
        if ((b.fields?.length ?? 0) > LIMITS.fieldsPerSection)
          out.push(`${where}: ${b.fields?.length} fields`);
        for (const f of b.fields ?? [])
          if (f.text.length > LIMITS.fieldText) out.push(`${where}: field of ${f.text.length}`);
      }
      if (b.type === 'context' && b.elements.length > LIMITS.contextElements)
        out.push(`${where}: ${b.elements.length} elements`);
    });
  });
  return out;
}

/** All mrkdwn/plain text of the blocks, to search what a reader would see. */
export function blocksText(blocks: readonly KnownBlock[]): string {
  return blocks
    .map((b) => {
      if (b.type === 'header') return b.text.text;
      if (b.type === 'section')
        return [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)].join('\n');
      if (b.type === 'context') return b.elements.map((e) => ('text' in e ? e.text : '')).join(' ');
      return '';
    })
    .join('\n');
}
