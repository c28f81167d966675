/** IPv4 addresses and CIDRs as numbers, for "which cluster's range holds this address" questions. */

export interface Cidr {
  readonly text: string;
  readonly base: number;
  readonly size: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Only the dotted-quad form: `010.1.1.1`, `10.1`, hex or a trailing dot are not addresses here. */
export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipv4ToNumber(text: string): number | undefined {
  if (!isIpv4(text)) return undefined;
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText = ''] = text.split('/');
  const ip = ipv4ToNumber(address);
  const prefix = Number(prefixText);
  if (ip === undefined || !/^\d{1,2}$/.test(prefixText) || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { text, base: ip - (ip % size), size };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const n = ipv4ToNumber(ip);
  return n !== undefined && n >= cidr.base && n < cidr.base + cidr.size;
}

/** The first CIDR in `cidrs` that holds `ip`, by its text. */
export function containingCidr(cidrs: readonly string[], ip: string): string | undefined {
  return cidrs.find((text) => {
    const cidr = parseCidr(text);
    return cidr !== undefined && cidrContains(cidr, ip);
  });
}

/** Whether every address of `inner` lies inside `outer` (a traffic selector covering a pod CIDR). */
export function cidrCovers(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return o !== undefined && i !== undefined && i.base >= o.base && i.base + i.size <= o.base + o.size;
}
