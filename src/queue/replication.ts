import type { Redis } from 'ioredis';

/** How long an ack may wait for a replica: well inside Slack's 3 s, beside the enqueue's own bound. */
export const REPLICA_WAIT_MS = 500;
/** How long the master's replica count is trusted before INFO is asked again (replicas come and go). */
const REPLICA_COUNT_TTL_MS = 10_000;

export interface ReplicaWaitOptions {
  /** REDIS_WAIT_REPLICAS; unset: 1 when the master has a replica, else 0. */
  wanted?: number | undefined;
  timeoutMs?: number;
  /** Called when fewer replicas than wanted confirmed the write within the bound. */
  onShort?: (wanted: number, acked: number) => void;
}

export interface ReplicaAck {
  wanted: number;
  acked: number;
}

export function connectedReplicas(infoReplication: string): number {
  const m = /^connected_slaves:(\d+)/m.exec(infoReplication);
  return m ? Number(m[1]) : 0;
}

/**
 * Waits, bounded, until replicas hold every write `connection` made so far (Redis WAIT), so a failover right
 * after an ack does not lose what was acked. Call it right after the durable write, on the connection that
 * made it: WAIT covers only that connection's writes.
 */
export function createReplicaWait(options: ReplicaWaitOptions = {}) {
  let known: { replicas: number; at: number } | undefined;
  /** `boundMs`: what is left of the caller's own deadline; the WAIT ends within it (a short wait is reported). */
  return async function waitForReplicas(connection: Redis, boundMs = Infinity): Promise<ReplicaAck> {
    let wanted = options.wanted;
    if (wanted === undefined) {
      if (!known || Date.now() - known.at > REPLICA_COUNT_TTL_MS)
        known = { replicas: connectedReplicas(await connection.info('replication')), at: Date.now() };
      wanted = Math.min(1, known.replicas);
    }
    if (wanted === 0) return { wanted, acked: 0 };
    const timeoutMs = Math.floor(Math.min(options.timeoutMs ?? REPLICA_WAIT_MS, boundMs));
    // WAIT with a timeout of 0 blocks for ever: no time left is a wait that came up short.
    const acked = timeoutMs >= 1 ? await connection.wait(wanted, timeoutMs) : 0;
    if (acked < wanted) {
      // The count may be stale (a replica just left); ask again next time.
      known = undefined;
      options.onShort?.(wanted, acked);
    }
    return { wanted, acked };
  };
}
