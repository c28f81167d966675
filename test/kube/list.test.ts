import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeError } from '../../src/kube/errors.ts';
import { listItems } from '../../src/kube/list.ts';
import { metrics } from '../../src/observability/metrics.ts';

const answering = (status: number, body: string) => ({
  name: 'icp',
  get: async (path: string) => {
    assert.equal(path, '/api/v1/pods');
    return { status, body };
  },
});

const forbiddenCount = async () =>
  (await metrics.clusterErrors.get()).values.find(
    (v) => v.labels.cluster === 'icp' && v.labels.kind === 'forbidden',
  )?.value ?? 0;

describe('a list call read as plain JSON', () => {
  it('returns the items as the API server sent them', async () => {
    const body = JSON.stringify({ kind: 'PodList', items: [{ metadata: { name: 'a' } }] });
    assert.deepEqual(await listItems(answering(200, body), '/api/v1/pods', 'pods', 1000), [
      { metadata: { name: 'a' } },
    ]);
    assert.deepEqual(await listItems(answering(200, '{"items":null}'), '/api/v1/pods', 'pods', 1000), []);
  });

  it('turns a refusal into the same failure a client-node call gives, and counts it', async () => {
    const before = await forbiddenCount();
    const status = JSON.stringify({
      kind: 'Status',
      message: 'pods is forbidden: User "system:serviceaccount:meshops:meshops" cannot list resource "pods"',
    });
    await assert.rejects(listItems(answering(403, status), '/api/v1/pods', 'pods', 1000), (err) => {
      assert.ok(err instanceof KubeError);
      assert.equal(err.failure.kind, 'forbidden');
      assert.match(err.failure.reason, /^403 Forbidden: pods is forbidden/);
      return true;
    });
    assert.equal(await forbiddenCount(), before + 1);
  });

  it('refuses an answer that is not a list', async () => {
    await assert.rejects(
      listItems(answering(200, '{"items":{"a":1}}'), '/api/v1/pods', 'pods', 1000),
      (err) => err instanceof KubeError && err.failure.kind === 'server-error',
    );
  });
});
