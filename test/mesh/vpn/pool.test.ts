import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimit } from '../../../src/mesh/vpn/pool.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit(
      [5, 1, 4, 2, 3, 6, 7],
      3,
      async (n) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        for (let i = 0; i < n; i++) await tick();
        inFlight--;
        return n * 10;
      },
      { onAbort: () => -1 },
    );
    assert.deepEqual(out, [50, 10, 40, 20, 30, 60, 70]);
    assert.equal(peak, 3);
  });

  it('starts everything at once when the limit allows it', async () => {
    let started = 0;
    const gate = Promise.withResolvers<void>();
    const done = mapLimit(
      [1, 2, 3, 4],
      16,
      async (n) => {
        started++;
        await gate.promise;
        return n;
      },
      { onAbort: () => 0 },
    );
    await tick();
    assert.equal(started, 4);
    gate.resolve();
    assert.deepEqual(await done, [1, 2, 3, 4]);
  });

  it('after an abort, items not yet started get onAbort instead of a call', async () => {
    const controller = new AbortController();
    const calls: number[] = [];
    const out = await mapLimit(
      [1, 2, 3, 4],
      1,
      async (n) => {
        calls.push(n);
        if (n === 2) controller.abort();
        return n;
      },
      { signal: controller.signal, onAbort: (n) => -n },
    );
    assert.deepEqual(calls, [1, 2]);
    assert.deepEqual(out, [1, 2, -3, -4]);
  });
});
