// The Socket Mode ack-latency baseline: Bolt's stock SocketModeReceiver whose /mesh handler only calls ack().
import { App, SocketModeReceiver } from '@slack/bolt';

const receiver = new SocketModeReceiver({
  appToken: process.env.SLACK_APP_TOKEN!,
  // The stock receiver hands these to its SocketModeClient's WebClient: the fake answers apps.connections.open.
  installerOptions: { clientOptions: { slackApiUrl: process.env.SLACK_API_URL! } },
});
const app = new App({ receiver, authorize: async () => ({ botToken: 'xoxb-bare' }) });
app.command('/mesh', async ({ ack }) => {
  await ack();
});
await app.start();
process.stdout.write('connected\n');
