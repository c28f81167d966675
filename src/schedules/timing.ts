import { CronExpressionParser } from 'cron-parser';

/** The first cron match strictly after `from`, evaluated in the schedule's own time zone (DST included). */
export function nextRun(cron: string, timezone: string, from: number): number {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(from) })
    .next()
    .getTime();
}

function parts(at: number, timezone: string): Record<string, string> {
  const out: Record<string, string> = {};
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  for (const p of format.formatToParts(new Date(at))) out[p.type] = p.value;
  return out;
}

/** The calendar day in the schedule's zone: a digest belongs to the day its readers see on their clocks. */
export function dayKey(at: number, timezone: string): string {
  const p = parts(at, timezone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "14:05" in the schedule's zone. */
export function clockTime(at: number, timezone: string): string {
  const p = parts(at, timezone);
  return `${p.hour}:${p.minute}`;
}

/** "Tue 2026-12-01 09:00 Europe/Berlin": unambiguous for readers in any zone. */
export function dateTime(at: number, timezone: string): string {
  const p = parts(at, timezone);
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${timezone}`;
}
