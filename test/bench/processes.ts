import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts a Node process with only PATH and `env`, resolving once its stdout matches `ready` (the match is
 * returned, e.g. a port it printed). Benchmarks run each role in its own process, as it is deployed.
 * stdout goes to a file, not a pipe: a busy load generator reading a pipe late would block the measured
 * process on its own log writes and the benchmark would measure that.
 */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ proc: ChildProcess; match: RegExpMatchArray }> {
  const log = join(mkdtempSync(join(tmpdir(), 'meshops-bench-proc-')), 'stdout.log');
  const proc = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', openSync(log, 'w'), 'inherit'],
  });
  let exit: Error | undefined;
  proc.on('exit', (code) => {
    exit = new Error(`${args.join(' ')} exited with ${code}`);
  });
  for (;;) {
    if (exit) throw exit;
    const match = readFileSync(log, 'utf8').match(ready);
    if (match) return { proc, match };
    await new Promise((r) => setTimeout(r, 50));
  }
}
