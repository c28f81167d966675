// IPv4 helpers for CIDR membership and deterministic address allocation.

export interface Cidr {
  readonly text: string;
  readonly base: number;
  readonly prefix: number;
  readonly size: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function parseCidr(text: string): Cidr {
  const [address, prefixText] = text.split('/');
  const ip = parseIpv4(address ?? '');
  const prefix = Number(prefixText);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`invalid IPv4 CIDR: ${text}`);
  }
  const size = 2 ** (32 - prefix);
  return { text, base: ip - (ip % size), prefix, size };
}

export function cidrContains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip < cidr.base + cidr.size;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}
