// The contract between the exec protocol and the simulated programs: a program is an async
// generator that yields output as it would appear over time and returns its exit code.

import type { PodTraits } from '../cluster/sim-cluster.ts';
import type { KubeObject } from '../cluster/store.ts';
import type { SimControlPlane } from '../istio/control-plane.ts';
import type { Network } from '../net/network.ts';

export interface Output {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ExecContext {
  cluster: string;
  pod: KubeObject;
  /** The container exec runs in (programs depend on its image). */
  container: string;
  traits: PodTraits;
  network: Network;
  controlPlane: SimControlPlane;
  random: () => number;
  now: () => number;
  /** Lets `ms` of simulated time pass (scaled down in real time); rejects when the client leaves. */
  wait(ms: number): Promise<void>;
}

export type Program = (args: readonly string[], ctx: ExecContext) => AsyncGenerator<Output, number, void>;

export const stdout = (text: string): Output => ({ stream: 'stdout', text });
export const stderr = (text: string): Output => ({ stream: 'stderr', text });
