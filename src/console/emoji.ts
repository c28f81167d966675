import { createRequire } from 'node:module';

interface EmojiEntry {
  unified: string;
  short_names: string[];
}

let table: Map<string, string> | undefined;

/**
 * Slack's shortcodes come from iamcal/emoji-data, published as `emoji-datasource`: the same names Slack accepts
 * (`:large_green_circle:`, `:hourglass_flowing_sand:`), so the console shows what Slack would show.
 */
function shortcodes(): Map<string, string> {
  if (!table) {
    const entries = createRequire(import.meta.url)('emoji-datasource/emoji.json') as EmojiEntry[];
    table = new Map();
    for (const e of entries) {
      const char = String.fromCodePoint(...e.unified.split('-').map((hex) => Number.parseInt(hex, 16)));
      for (const name of e.short_names) table.set(name, char);
    }
  }
  return table;
}

/** The emoji for a shortcode without colons, or undefined when Slack would not know it either. */
export function emojiFor(name: string): string | undefined {
  return shortcodes().get(name);
}
