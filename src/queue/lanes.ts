import type { Producer } from './producer.ts';

/** At most this many admissions write and wait for replicas at once, each on a connection of its own. */
export const ADMISSION_LANES = 8;

/** The admission's time bound ran out before a lane was free: nothing was written. */
export class NoFreeLaneError extends Error {
  constructor() {
    super('every Redis connection for admissions was busy until the admission bound ran out');
    this.name = 'NoFreeLaneError';
  }
}

/**
 * Producers on connections of their own, each lent to one admission at a time. WAIT blocks the connection it
 * runs on and covers only that connection's writes: admissions sharing one connection waited for replicas one
 * after another, so with fewer replicas up than REDIS_WAIT_REPLICAS each waited out every earlier one's WAIT.
 * On lanes of their own they wait side by side. Lanes open when needed, up to `size`, and stay open.
 */
export interface Lanes {
  /**
   * Runs `work` on a free lane. When all `size` are busy it waits for one until `deadline` (epoch ms), then
   * rejects with NoFreeLaneError without running `work`, so nothing is written after the user was told no.
   */
  use<T>(deadline: number, work: (lane: Producer) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface Waiter {
  take(lane: Producer): void;
}

export function createLanes(open: () => Producer, size = ADMISSION_LANES): Lanes {
  const opened: Producer[] = [];
  const idle: Producer[] = [];
  const waiters: Waiter[] = [];

  function acquire(deadline: number): Promise<Producer> {
    const free = idle.pop();
    if (free) return Promise.resolve(free);
    if (opened.length < size) {
      const lane = open();
      opened.push(lane);
      return Promise.resolve(lane);
    }
    return new Promise<Producer>((resolve, reject) => {
      const waiter: Waiter = {
        take(lane) {
          clearTimeout(timer);
          resolve(lane);
        },
      };
      const timer = setTimeout(
        () => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new NoFreeLaneError());
        },
        Math.max(0, deadline - Date.now()),
      );
      waiters.push(waiter);
    });
  }

  function release(lane: Producer): void {
    const next = waiters.shift();
    if (next) next.take(lane);
    else idle.push(lane);
  }

  return {
    async use(deadline, work) {
      const lane = await acquire(deadline);
      try {
        return await work(lane);
      } finally {
        release(lane);
      }
    },
    async close() {
      await Promise.all(opened.map((lane) => lane.close()));
    },
  };
}
