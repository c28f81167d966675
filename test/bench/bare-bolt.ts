// The ack-latency baseline: a Bolt app on the same receiver whose /mesh handler only calls ack().
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';

const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET! });
const app = new App({ receiver, authorize: async () => ({ botToken: 'xoxb-bare' }) });
app.command('/mesh', async ({ ack }) => {
  await ack();
});
const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
