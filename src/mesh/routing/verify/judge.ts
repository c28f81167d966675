import type { ServiceStats } from './read.ts';

export interface Thresholds {
  /** Share of 5xx (0–1) above which a version breaches. */
  maxErrorRate: number;
  /** p99 over the baseline p99 above which a version breaches. */
  maxLatencyRatio: number;
  /** Fewer requests than this to a version in a reading: not judged. */
  minRequests: number;
}

export type VersionVerdict = 'ok' | 'breach' | 'too-little';

export interface VersionJudgement {
  service: string;
  version: string;
  requests: number;
  /** 0–1; null when nothing was requested. */
  errorShare: number | null;
  p99Ms: number | null;
  /** The p99 this version is compared with: its own before the change, else the whole service's. */
  baselineP99Ms: number | null;
  latencyRatio: number | null;
  verdict: VersionVerdict;
  /** Why it breached, in words with the numbers: "5xx 31.0 % > 5 %". */
  reasons: string[];
}

export interface Judgement {
  /** breach if any version breaches; too-little if no version had enough requests to judge. */
  verdict: VersionVerdict;
  versions: VersionJudgement[];
}

export const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
export const millis = (ms: number | null) => (ms === null ? 'n/a' : `${Math.round(ms)} ms`);

function judgeVersion(
  service: string,
  version: string,
  now: ServiceStats['byVersion'][string],
  before: ServiceStats,
  t: Thresholds,
): VersionJudgement {
  const own = before.byVersion[version];
  const baselineP99Ms =
    own && own.requests >= t.minRequests && own.p99Ms !== null ? own.p99Ms : before.p99AllMs;
  const errorShare = now.requests > 0 ? now.errors / now.requests : null;
  const latencyRatio =
    now.p99Ms !== null && baselineP99Ms !== null && baselineP99Ms > 0 ? now.p99Ms / baselineP99Ms : null;
  const base = {
    service,
    version,
    requests: now.requests,
    errorShare,
    p99Ms: now.p99Ms,
    baselineP99Ms,
    latencyRatio,
  };
  if (now.requests < t.minRequests) return { ...base, verdict: 'too-little', reasons: [] };
  const reasons: string[] = [];
  if (errorShare !== null && errorShare > t.maxErrorRate)
    reasons.push(`5xx ${percent(errorShare)} > ${percent(t.maxErrorRate)}`);
  if (latencyRatio !== null && latencyRatio > t.maxLatencyRatio)
    reasons.push(
      `p99 ${millis(now.p99Ms)} = ${latencyRatio.toFixed(1)}× the baseline ${millis(baselineP99Ms)} > ${t.maxLatencyRatio}×`,
    );
  return { ...base, verdict: reasons.length > 0 ? 'breach' : 'ok', reasons };
}

/**
 * Every version that receives traffic now, per service, against the window before the change. Versions
 * the change moved traffic away from (no requests now) are not judged: nothing is sent to them.
 */
export function judge(
  now: Readonly<Record<string, ServiceStats>>,
  before: Readonly<Record<string, ServiceStats>>,
  t: Thresholds,
): Judgement {
  const versions = Object.entries(now).flatMap(([service, stats]) =>
    Object.entries(stats.byVersion)
      .filter(([, v]) => v.requests > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([version, v]) =>
        judgeVersion(service, version, v, before[service] ?? { byVersion: {}, p99AllMs: null }, t),
      ),
  );
  const verdict: VersionVerdict = versions.some((v) => v.verdict === 'breach')
    ? 'breach'
    : versions.some((v) => v.verdict === 'ok')
      ? 'ok'
      : 'too-little';
  return { verdict, versions };
}

/** "reviews v3: 5xx 31.0 % > 5 %" for each breaching version. */
export const breachLines = (j: Judgement): string[] =>
  j.versions
    .filter((v) => v.verdict === 'breach')
    .map((v) => `${v.service} ${v.version}: ${v.reasons.join('; ')}`);
