/**
 * Text conventions of the messages meshops writes (Slack's mrkdwn), shared by the renderers and the domain's
 * plain-words lines that end up in messages.
 */

/** Slack mrkdwn needs &, < and > escaped; anything from a cluster is text, never markup. */
export const escapeMrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Lists longer than this end with a line saying how many were left out and where to see them, so one reply
 * stays readable (the worker moves blocks past 50 into further replies).
 */
export const MAX_LIST_LINES = 150;
