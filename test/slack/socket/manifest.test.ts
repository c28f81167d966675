import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const schema = JSON.parse(read('test/fixtures/socket/manifest.schema.1.0.0.json')) as object;
const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);

type Manifest = {
  features: { slash_commands: Record<string, unknown>[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { socket_mode_enabled: boolean; interactivity: Record<string, unknown> };
};

const SOCKET_FILE = 'deploy/slack-app-manifest.socket-mode.yaml';
const socketText = read(SOCKET_FILE);
const socket = parse(socketText) as Manifest;
const http = parse(read('deploy/slack-app-manifest.yaml')) as Manifest;

describe('the Socket Mode variant of the Slack app manifest', () => {
  it("is valid against Slack's manifest schema", () => {
    assert.ok(validate(socket), JSON.stringify(validate.errors, null, 2));
    const broken = { ...socket, settings: { ...socket.settings, socket_mode: true } };
    assert.equal(validate(broken), false, 'the schema rejects unknown keys, so the check is live');
  });

  it('enables Socket Mode and names no request URL', () => {
    assert.equal(socket.settings.socket_mode_enabled, true);
    assert.doesNotMatch(JSON.stringify(socket), /"(url|request_url|message_menu_options_url)"/);
  });

  it('offers what the HTTP manifest offers: the same command, buttons and bot scopes', () => {
    const withoutUrl = ({ url: _url, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(socket.features.slash_commands, http.features.slash_commands.map(withoutUrl));
    assert.deepEqual(socket.oauth_config.scopes.bot, http.oauth_config.scopes.bot);
    assert.equal(socket.settings.interactivity.is_enabled, http.settings.interactivity.is_enabled);
  });

  it('tells where the app-level token with connections:write comes from', () => {
    assert.match(socketText, /connections:write/);
    assert.match(socketText, /SLACK_APP_TOKEN \(xapp-…\)/);
  });
});
