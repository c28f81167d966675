/** The bot token scopes meshops uses; deploy/slack-app-manifest*.yaml ask for exactly these (tested). */
export const BOT_SCOPES = ['commands', 'chat:write', 'files:write', 'usergroups:read', 'users:read'] as const;
