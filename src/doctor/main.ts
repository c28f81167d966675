import { EnvError, parseEnv } from '../config/env.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { redisTarget } from '../config/redis.ts';
import { configProblemLines, type DoctorLine, formatDoctor, runDoctor } from './doctor.ts';

/**
 * `meshops doctor` (`npm run doctor`): prints one line per check and returns the exit code, 1 when any
 * check failed. Warnings (optional permissions, risky Redis settings) do not fail it.
 */
export async function doctorCli(source: NodeJS.ProcessEnv, write: (text: string) => void): Promise<number> {
  let lines: DoctorLine[];
  try {
    const env = parseEnv(source, 'all');
    const config = loadConfig(env.MESHOPS_CONFIG);
    lines = [
      {
        mark: 'ok',
        subject: 'config',
        text: `${env.MESHOPS_CONFIG}: ${config.clusters.length} cluster(s), ${config.schedules.length} schedule(s)`,
      },
      ...(await runDoctor({ env, config, redis: redisTarget(env) })),
    ];
  } catch (err) {
    if (err instanceof ConfigError) lines = configProblemLines(err);
    else if (err instanceof EnvError)
      lines = err.problems.map((text) => ({ mark: 'FAIL' as const, subject: 'environment', text }));
    else throw err;
  }
  const failed = lines.filter((l) => l.mark === 'FAIL').length;
  const warned = lines.filter((l) => l.mark === 'warn').length;
  write(
    `${formatDoctor(lines)}\n\n${failed === 0 ? 'meshops doctor: all checks passed' : `meshops doctor: ${failed} check(s) failed`}${warned ? `, ${warned} warning(s)` : ''}\n`,
  );
  return failed === 0 ? 0 : 1;
}
