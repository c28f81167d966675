// Shared helpers for the simulation's tests: fixtures, a client-node exec wrapper, raw HTTPS.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { type SimMesh, type SimMeshOptions, startSimMesh } from '../../src/sim/index.ts';

export function fixture(path: string): string {
  return readFileSync(new URL(`../fixtures/sim/${path}`, import.meta.url), 'utf8');
}

/** Starts a mesh in a fresh temp dir; `stop` closes it and removes the dir. */
export async function startTestMesh(options: Omit<SimMeshOptions, 'dir'> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'meshops-sim-'));
  const mesh = await startSimMesh({ podStartMs: 20, execLatencyMs: 5, ...options, dir });
  return {
    mesh,
    dir,
    stop: async () => {
      await mesh.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An administrator's view: the simulation's API semantics, outside RBAC (test/sim/rbac.test.ts covers that). */
export function kubeConfig(mesh: SimMesh, cluster: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(mesh.adminKubeconfigPath(cluster));
  return kc;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  status: k8s.V1Status;
}

function sink(append: (text: string) => void): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      append(String(chunk));
      done();
    },
  });
}

/** Runs argv in a container with client-node's Exec and reads the exit code from the Status. */
export function execIn(
  kc: k8s.KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  argv: string[],
): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    new k8s.Exec(kc)
      .exec(
        namespace,
        pod,
        container,
        argv,
        sink((t) => (stdout += t)),
        sink((t) => (stderr += t)),
        null,
        false,
        (status) => {
          const exitCode =
            status.status === 'Success'
              ? 0
              : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? Number.NaN);
          resolve({ stdout, stderr, exitCode, status });
        },
      )
      .catch(reject);
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTPS request to a simulated cluster, with its CA and (by default) an administrator's token. */
export function raw(
  mesh: SimMesh,
  cluster: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; token?: string | null } = {},
): Promise<RawResponse> {
  const handle = mesh.clusters.get(cluster)!;
  const token =
    options.token === undefined ? kubeConfig(mesh, cluster).getCurrentUser()?.token : options.token;
  return new Promise((resolve, reject) => {
    const req = request(
      `${handle.url}${path}`,
      {
        method,
        ca: handle.caCert,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function podNamed(
  core: k8s.CoreV1Api,
  namespace: string,
  labelSelector: string,
): Promise<k8s.V1Pod> {
  const list = await core.listNamespacedPod({ namespace, labelSelector });
  const pod = list.items[0];
  if (!pod) throw new Error(`no pod matches ${labelSelector} in ${namespace}`);
  return pod;
}

/** Routes all of reviews' plain traffic to `subsets` (name, weight) on the primary, as an applied VirtualService would. */
export function routeReviews(mesh: SimMesh, subsets: [string, number][]): void {
  const state = mesh.clusters.get('icp')!.state;
  const vs = state.get('virtualservices', 'default', 'reviews', 'networking.istio.io')!;
  const route = subsets.map(([subset, weight]) => ({ destination: { host: 'reviews', subset }, weight }));
  state.put(
    'virtualservices',
    { ...vs, spec: { hosts: ['reviews'], http: [{ route }] } },
    'networking.istio.io',
  );
}
