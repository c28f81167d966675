/** The Slack workspace the console pretends to be: who can log in, which channels exist, which commands the app has. */
export interface Workspace {
  name: string;
  /** People a visitor can act as; `role` is shown beside the name (e.g. "operator"). */
  users: readonly { id: string; name: string; role: string }[];
  channels: readonly { id: string; name: string }[];
  /** Slash commands the installed app registered, e.g. `/mesh`. */
  commands: readonly string[];
  bot: { id: string; name: string };
}

/** Slack's own voice for its error messages. */
export const SLACKBOT = { id: 'USLACKBOT', name: 'Slackbot' } as const;
