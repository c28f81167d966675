import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import { generateScenario } from '../../src/sim/index.ts';
import { kubeConfig, startTestMesh } from './helpers.ts';

/** The key exchange a client with Node's defaults (X25519MLKEM768 and X25519 key shares) settles on. */
async function keyExchange(server: string, caData: string): Promise<string | undefined> {
  const url = new URL(server);
  const socket = connect({
    host: url.hostname,
    port: Number(url.port),
    ca: Buffer.from(caData, 'base64'),
    servername: 'localhost',
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name;
  } finally {
    socket.destroy();
  }
}

describe('the simulated API servers negotiate TLS as the Go toolchain of their Kubernetes version does', () => {
  it('1.32 (Go 1.23, no X25519MLKEM768) settles on X25519; 1.33 (Go 1.24) on X25519MLKEM768', async () => {
    const scenario = generateScenario({ clusters: 2 });
    const remote = scenario.clusters.find((c) => c.role === 'remote')!;
    remote.kubernetesVersion = 'v1.33.1';
    const { mesh, stop } = await startTestMesh({ scenario });
    try {
      const groups = Object.fromEntries(
        await Promise.all(
          scenario.clusters.map(async (c) => {
            const cluster = kubeConfig(mesh, c.name).getCurrentCluster()!;
            return [c.kubernetesVersion, await keyExchange(cluster.server, cluster.caData!)];
          }),
        ),
      );
      assert.deepEqual(groups, { 'v1.32.4': 'X25519', 'v1.33.1': 'X25519MLKEM768' });
    } finally {
      await stop();
    }
  });
});
