import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createLanes, NoFreeLaneError } from '../../src/queue/lanes.ts';
import { createProducer, type Producer } from '../../src/queue/producer.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

/** Work that holds its lane until the test lets it go. */
function held() {
  let release: () => void = () => {};
  const done = new Promise<void>((r) => {
    release = r;
  });
  return { done, release };
}

describe('admission lanes', () => {
  const prefix = uniquePrefix('lanes');
  const opened: Producer[] = [];
  const open = () => {
    const producer = createProducer(REDIS_URL, prefix);
    opened.push(producer);
    return producer;
  };
  const lanes = createLanes(open, 2);
  after(async () => {
    await lanes.close();
    await dropPrefix(prefix);
  });
  const far = () => Date.now() + 60_000;

  it('opens a connection per admission in flight, up to the bound, and reuses it afterwards', async () => {
    const a = held();
    const b = held();
    const used: Producer[] = [];
    const first = lanes.use(far(), async (lane) => {
      used.push(lane);
      await a.done;
    });
    const second = lanes.use(far(), async (lane) => {
      used.push(lane);
      await b.done;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(opened.length, 2);
    assert.notEqual(used[0], used[1], 'two admissions in flight, two connections');

    const order: string[] = [];
    const third = lanes.use(far(), async (lane) => {
      order.push('third started');
      used.push(lane);
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'the third waits while both lanes are busy');
    b.release();
    await second;
    await third;
    assert.deepEqual(order, ['third started']);
    assert.equal(used[2], used[1], 'it ran on the lane the second one freed');
    a.release();
    await first;
    assert.equal(opened.length, 2, 'no connection beyond the bound was opened');

    // The lanes really write: a job added on one is in Redis.
    const id = await lanes.use(far(), (lane) =>
      lane.enqueue({
        type: 'command',
        command: { kind: 'clusters' },
        text: '/mesh clusters',
        user: 'U0LANE',
        channel: 'C0LANE',
        requestedAt: Date.now(),
      }),
    );
    assert.ok(await opened[0]!.queue.getJob(id));
  });

  it('an admission still waiting for a lane when its bound runs out is refused and never writes', async () => {
    const a = held();
    const b = held();
    const holding = [a, b].map((h) => lanes.use(far(), () => h.done));
    let ran = false;
    await assert.rejects(
      lanes.use(Date.now() + 20, async () => {
        ran = true;
      }),
      NoFreeLaneError,
    );
    a.release();
    b.release();
    await Promise.all(holding);
    await lanes.use(far(), async () => {});
    assert.equal(ran, false);
  });
});
