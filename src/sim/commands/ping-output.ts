// The text iputils ping (20221126) and BusyBox ping (1.35) print, line by line, checked against
// real captures in test/fixtures/sim/ping/. Pure: the caller decides what happened.

export interface PingReply {
  /** iputils counts from 1, BusyBox from 0; this is the 0-based packet index. */
  index: number;
  ttl: number;
  timeMs: number;
}

export interface PingSummary {
  target: string;
  transmitted: number;
  replies: readonly PingReply[];
  /** What iputils prints as `time Nms`: first send to last packet. */
  elapsedMs: number;
}

export interface PingFormat {
  header(target: string, address: string, dataBytes: number): string;
  reply(address: string, dataBytes: number, reply: PingReply): string;
  summary(s: PingSummary): string;
}

/** `%ld.%03ld` of a microsecond count. */
const ms3 = (us: number) => `${Math.trunc(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;

/** iputils prints fewer decimals as the time grows, rounding in integer µs (ping_common.c). */
function iputilsTime(ms: number): string {
  const t = Math.round(ms * 1000);
  const whole = (x: number) => Math.trunc(x / 1000);
  if (t >= 100000 - 50) return String(whole(t + 500));
  if (t >= 10000 - 5) return `${whole(t + 50)}.${Math.trunc(((t + 50) % 1000) / 100)}`;
  if (t >= 1000) return `${whole(t + 5)}.${String(Math.trunc(((t + 5) % 1000) / 10)).padStart(2, '0')}`;
  return ms3(t);
}

/** C's `%g` for the loss percentage: six significant digits, no trailing zeros. */
function percentG(value: number): string {
  return String(Number(Math.fround(value).toPrecision(6)));
}

/** Both tools keep round-trip times as integer microseconds and do integer arithmetic on them. */
function microseconds(replies: readonly PingReply[]): number[] {
  return replies.map((r) => Math.round(r.timeMs * 1000));
}

/** iputils' statistics, including its integer variance (ping_common.c finish()). */
function iputilsRtt(replies: readonly PingReply[]): string {
  const us = microseconds(replies);
  const n = us.length;
  const tsum = us.reduce((a, b) => a + b, 0);
  const tsum2 = us.reduce((a, b) => a + b * b, 0);
  const variance = Math.trunc((tsum2 - Math.trunc((tsum * tsum) / n)) / n);
  const mdev = Math.trunc(Math.sqrt(Math.max(0, variance)));
  return `rtt min/avg/max/mdev = ${ms3(Math.min(...us))}/${ms3(Math.trunc(tsum / n))}/${ms3(Math.max(...us))}/${ms3(mdev)} ms\n`;
}

function busyboxRtt(replies: readonly PingReply[]): string {
  const us = microseconds(replies);
  const avg = Math.trunc(us.reduce((a, b) => a + b, 0) / us.length);
  return `round-trip min/avg/max = ${ms3(Math.min(...us))}/${ms3(avg)}/${ms3(Math.max(...us))} ms\n`;
}

export const iputils: PingFormat = {
  header: (target, address, dataBytes) =>
    `PING ${target} (${address}) ${dataBytes}(${dataBytes + 28}) bytes of data.\n`,
  reply: (address, dataBytes, r) =>
    `${dataBytes + 8} bytes from ${address}: icmp_seq=${r.index + 1} ttl=${r.ttl} time=${iputilsTime(r.timeMs)} ms\n`,
  summary: (s) => {
    const received = s.replies.length;
    const loss = s.transmitted === 0 ? 0 : ((s.transmitted - received) * 100) / s.transmitted;
    let text = `\n--- ${s.target} ping statistics ---\n`;
    text += `${s.transmitted} packets transmitted, ${received} received, ${percentG(loss)}% packet loss, time ${Math.round(s.elapsedMs)}ms\n`;
    if (received > 0) {
      text += iputilsRtt(s.replies);
    } else {
      // With nothing received iputils still ends the statistics block with a bare newline.
      text += '\n';
    }
    return text;
  },
};

export const busybox: PingFormat = {
  header: (target, address, dataBytes) => `PING ${target} (${address}): ${dataBytes} data bytes\n`,
  reply: (address, dataBytes, r) =>
    `${dataBytes + 8} bytes from ${address}: seq=${r.index} ttl=${r.ttl} time=${ms3(Math.round(r.timeMs * 1000))} ms\n`,
  summary: (s) => {
    const received = s.replies.length;
    const loss = s.transmitted === 0 ? 0 : Math.trunc(((s.transmitted - received) * 100) / s.transmitted);
    let text = `\n--- ${s.target} ping statistics ---\n`;
    text += `${s.transmitted} packets transmitted, ${received} packets received, ${loss}% packet loss\n`;
    if (received > 0) text += busyboxRtt(s.replies);
    return text;
  },
};
