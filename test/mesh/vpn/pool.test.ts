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

describe('mapLimit with a key', () => {
  it('bounds each key on its own and starts calls in input order across keys', async () => {
    const items = [
      { key: 'a', n: 1 },
      { key: 'b', n: 2 },
      { key: 'a', n: 3 },
      { key: 'b', n: 4 },
      { key: 'a', n: 5 },
      { key: 'c', n: 6 },
    ];
    const started: number[] = [];
    const inFlight = new Map<string, number>();
    let peak = 0;
    const gate = Promise.withResolvers<void>();
    const done = mapLimit(
      items,
      2,
      async ({ key, n }) => {
        started.push(n);
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        peak = Math.max(peak, ...inFlight.values());
        await gate.promise;
        inFlight.set(key, inFlight.get(key)! - 1);
        return n * 10;
      },
      { onAbort: () => -1, keyOf: (i) => i.key },
    );
    // The first wave, synchronously and in input order: a's third item waits for a slot of a, c's does not.
    assert.deepEqual(started, [1, 2, 3, 4, 6]);
    gate.resolve();
    assert.deepEqual(await done, [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(started, [1, 2, 3, 4, 6, 5]);
    assert.equal(peak, 2);
  });
});
