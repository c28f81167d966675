import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EnvError, parseEnv } from '../../src/config/env.ts';
import { describeTarget, redisTarget } from '../../src/config/redis.ts';

const BASE = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-secret' };

function problems(env: Record<string, string>): string[] {
  try {
    parseEnv({ ...BASE, ...env }, 'all');
    return [];
  } catch (err) {
    return (err as EnvError).problems;
  }
}

describe('Redis settings from the environment', () => {
  it('reads REDIS_SENTINELS and REDIS_SENTINEL_NAME, with the password from REDIS_PASSWORD', () => {
    const target = redisTarget({
      REDIS_URL: 'redis://127.0.0.1/2',
      REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1,10.0.0.3:26380',
      REDIS_SENTINEL_NAME: 'meshops',
      REDIS_PASSWORD: 'p@ss',
    });
    assert.deepEqual(target, {
      mode: 'sentinel',
      nodes: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26379 },
        { host: '10.0.0.3', port: 26380 },
      ],
      name: 'meshops',
      db: 2,
      tls: false,
      password: 'p@ss',
    });
    assert.equal(
      describeTarget(target),
      'Sentinel master group "meshops" via sentinel-0:26379,sentinel-1:26379,10.0.0.3:26380 (db 2)',
    );
  });

  it('reads a redis+sentinel:// URL, TLS included', () => {
    assert.deepEqual(redisTarget({ REDIS_URL: 'rediss+sentinel://:s%40cret@s0:26379,s1:26379/mymaster/1' }), {
      mode: 'sentinel',
      nodes: [
        { host: 's0', port: 26379 },
        { host: 's1', port: 26379 },
      ],
      name: 'mymaster',
      db: 1,
      tls: true,
      password: 's@cret',
    });
  });

  it('names the variable and never the password when something is wrong', () => {
    assert.deepEqual(problems({ REDIS_SENTINELS: 's0:26379' }), [
      'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name in sentinel.conf, e.g. mymaster)',
    ]);
    assert.deepEqual(problems({ REDIS_SENTINELS: 's0:99999', REDIS_SENTINEL_NAME: 'm' }), [
      'REDIS_SENTINELS: "s0:99999" is not host:port (e.g. redis-sentinel-0:26379)',
    ]);
    assert.deepEqual(problems({ REDIS_URL: 'http://x:hunter2@h' }), [
      'REDIS_URL: must use redis://, rediss:// or redis+sentinel://',
    ]);
    assert.deepEqual(problems({ REDIS_TLS_CA: '/nonexistent/ca.pem' }), [
      'REDIS_TLS_CA: /nonexistent/ca.pem does not exist (a PEM file of the Redis CA)',
    ]);
    assert.deepEqual(problems({ REDIS_WAIT_REPLICAS: 'two' }).length, 1);
  });
});
