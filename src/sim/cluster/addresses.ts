// Who holds which IP in one cluster (pods, Service cluster IPs, LoadBalancer addresses), and
// deterministic allocation of new ones: an address is a hash of the pod or Service name, so
// scenarios give the same IPs on every run and a restarted pod (new name) gets a new IP.

import { type Cidr, formatIpv4, parseCidr } from '../net/ipv4.ts';
import type { Location } from '../net/network.ts';
import { fnv1a } from './ids.ts';

export class AddressIndex {
  readonly #cluster: string;
  readonly #holders = new Map<string, { owner: string; location: Location }>();
  readonly #byOwner = new Map<string, string[]>();

  constructor(cluster: string) {
    this.#cluster = cluster;
  }

  locate(ip: string): Location | undefined {
    return this.#holders.get(ip)?.location;
  }

  has(ip: string): boolean {
    return this.#holders.has(ip);
  }

  claim(
    ip: string,
    owner: string,
    kind: Location['kind'],
    more: Omit<Location, 'cluster' | 'kind'> = {},
  ): void {
    this.#holders.set(ip, { owner, location: { cluster: this.#cluster, kind, ...more } });
    const ips = this.#byOwner.get(owner) ?? [];
    if (!ips.includes(ip)) ips.push(ip);
    this.#byOwner.set(owner, ips);
  }

  /** Releases the addresses `owner` holds, unless another object has claimed one since. */
  releaseOwner(owner: string): void {
    for (const ip of this.#byOwner.get(owner) ?? []) {
      if (this.#holders.get(ip)?.owner === owner) this.#holders.delete(ip);
    }
    this.#byOwner.delete(owner);
  }

  clear(): void {
    this.#holders.clear();
    this.#byOwner.clear();
  }
}

/** Picks a free host address in `cidr` from `seed`, probing linearly past taken ones. */
export function allocateAddress(cidrText: string, seed: string, taken: (ip: string) => boolean): string {
  const cidr: Cidr = parseCidr(cidrText);
  // Skip the network address, the first host (gateway / the `kubernetes` Service) and broadcast.
  const usable = cidr.size - 3;
  if (usable <= 0) throw new Error(`CIDR ${cidrText} is too small`);
  const start = fnv1a(seed) % usable;
  for (let i = 0; i < usable; i++) {
    const ip = formatIpv4(cidr.base + 2 + ((start + i) % usable));
    if (!ip.endsWith('.0') && !ip.endsWith('.255') && !taken(ip)) return ip;
  }
  throw new Error(`no free address left in ${cidrText}`);
}
