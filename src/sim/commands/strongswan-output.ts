// What strongSwan's stroke plugin (src/libcharon/plugins/stroke/stroke_list.c) prints for
// `ipsec status` and `ipsec statusall`, and swanctl (src/swanctl/commands/list_sas.c) for
// `swanctl --list-sas`, checked against the captures in test/fixtures/sim/strongswan/ and
// test/fixtures/vpn/captured/. Pure: the caller describes the daemon and its SAs.

export type SaState = 'installed' | 'no-child' | 'connecting';

export interface ConnView {
  name: string;
  /** `%any` for a responder that accepts any peer. */
  localAddress: string;
  remoteAddress: string;
  localId: string;
  remoteId: string;
  localSubnets: readonly string[];
  remoteSubnets: readonly string[];
}

export interface SaView {
  conn: ConnView;
  state: SaState;
  ikeUniqueId: number;
  childUniqueId: number;
  reqid: number;
  /** The addresses of this IKE SA (the local one is the pod's own IP). */
  localAddress: string;
  remoteAddress: string;
  establishedSecondsAgo: number;
  /** Seconds until the IKE SA is reauthenticated and the CHILD SA rekeyed. */
  reauthSeconds: number;
  rekeySeconds: number;
  ikeSpiInitiator: string;
  ikeSpiResponder: string;
  espSpiIn: string;
  espSpiOut: string;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** The CHILD SA's traffic selectors: the configured subnets narrowed by the peer's. */
  localTs: readonly string[];
  remoteTs: readonly string[];
  /** This side started the IKE SA (auto=start): swanctl stars its SPI. */
  initiator: boolean;
}

export interface DaemonView {
  version: string;
  kernel: string;
  machine: string;
  uptimeSeconds: number;
  startedAt: Date;
  listening: readonly string[];
  conns: readonly ConnView[];
}

/** strongSwan's `%V` time-delta format (time_delta_printf_hook). */
export function timeDelta(seconds: number): string {
  let delta = Math.max(0, Math.floor(seconds));
  let unit = 'second';
  if (delta > 2 * 60 * 60 * 24) {
    delta = Math.floor(delta / (60 * 60 * 24));
    unit = 'day';
  } else if (delta > 2 * 60 * 60) {
    delta = Math.floor(delta / (60 * 60));
    unit = 'hour';
  } else if (delta > 2 * 60) {
    delta = Math.floor(delta / 60);
    unit = 'minute';
  }
  return `${delta} ${unit}${delta === 1 ? '' : 's'}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** strongSwan's `%T` local time format, e.g. `Nov 27 14:15:36 2026` (UTC inside the pod). */
function timestamp(d: Date): string {
  return `${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

const name12 = (name: string) => name.padStart(12);

function header(sas: readonly SaView[]): string {
  const up = sas.filter((s) => s.state !== 'connecting').length;
  const connecting = sas.length - up;
  return `Security Associations (${up} up, ${connecting} connecting):\n`;
}

function ikeLine(sa: SaView): string {
  const n = name12(sa.conn.name);
  if (sa.state === 'connecting') {
    return `${n}[${sa.ikeUniqueId}]: CONNECTING, ${sa.localAddress}[%any]...${sa.remoteAddress}[%any]\n`;
  }
  return `${n}[${sa.ikeUniqueId}]: ESTABLISHED ${timeDelta(sa.establishedSecondsAgo)} ago, ${sa.localAddress}[${sa.conn.localId}]...${sa.remoteAddress}[${sa.conn.remoteId}]\n`;
}

/** stroke_list.c: the packet count and last use only follow a non-zero byte count. */
function bytes(count: number, packets: number, dir: 'i' | 'o'): string {
  if (count === 0) return `0 bytes_${dir}`;
  return `${count} bytes_${dir} (${packets} pkt${packets === 1 ? '' : 's'}, 0s ago)`;
}

function childLines(sa: SaView, all: boolean): string {
  if (sa.state !== 'installed') return '';
  const c = `${name12(sa.conn.name)}{${sa.childUniqueId}}:`;
  let text = `${c}  INSTALLED, TUNNEL, reqid ${sa.reqid}, ESP in UDP SPIs: ${sa.espSpiIn}_i ${sa.espSpiOut}_o\n`;
  if (all) {
    text += `${c}  AES_CBC_256/HMAC_SHA2_256_128, ${bytes(sa.bytesIn, sa.packetsIn, 'i')}, ${bytes(sa.bytesOut, sa.packetsOut, 'o')}, rekeying in ${timeDelta(sa.rekeySeconds)}\n`;
  }
  text += `${c}   ${sa.localTs.join(' ')} === ${sa.remoteTs.join(' ')}\n`;
  return text;
}

function ikeDetailLines(sa: SaView): string {
  const n = `${name12(sa.conn.name)}[${sa.ikeUniqueId}]:`;
  if (sa.state === 'connecting') {
    return (
      `${n} IKEv2 SPIs: ${sa.ikeSpiInitiator}_i* 0000000000000000_r\n` +
      `${n} Tasks active: IKE_VENDOR IKE_INIT IKE_NATD IKE_CERT_PRE IKE_AUTH IKE_CERT_POST IKE_CONFIG CHILD_CREATE IKE_AUTH_LIFETIME IKE_MOBIKE\n`
    );
  }
  return (
    `${n} IKEv2 SPIs: ${sa.ikeSpiInitiator}_i* ${sa.ikeSpiResponder}_r, pre-shared key reauthentication in ${timeDelta(sa.reauthSeconds)}\n` +
    `${n} IKE proposal: AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048\n`
  );
}

/** With a connection name, the counts stay global but only that connection's SAs are listed. */
function saSection(sas: readonly SaView[], all: boolean, name?: string): string {
  const shown = name === undefined ? sas : sas.filter((sa) => sa.conn.name === name);
  let text = header(sas);
  if (shown.length === 0) return `${text}  ${name === undefined ? 'none' : 'no match'}\n`;
  for (const sa of shown) {
    text += ikeLine(sa);
    if (all) text += ikeDetailLines(sa);
    text += childLines(sa, all);
  }
  return text;
}

export function renderStatus(sas: readonly SaView[], name?: string): string {
  return saSection(sas, false, name);
}

const LOADED_PLUGINS =
  'charon aesni aes rc2 sha2 sha1 md5 mgf1 random nonce x509 revocation constraints pubkey pkcs1 pkcs7 pkcs12 pgp dnskey sshkey pem openssl pkcs8 fips-prf gmp agent xcbc hmac kdf gcm drbg attr kernel-netlink resolve socket-default connmark stroke updown eap-mschapv2 xauth-generic counters';

function connLines(conn: ConnView): string {
  const n = `${name12(conn.name)}:`;
  return (
    `${n}  ${conn.localAddress}...${conn.remoteAddress}  IKEv2, dpddelay=30s\n` +
    `${n}   local:  [${conn.localId}] uses pre-shared key authentication\n` +
    `${n}   remote: [${conn.remoteId}] uses pre-shared key authentication\n` +
    `${n}   child:  ${conn.localSubnets.join(' ')} === ${conn.remoteSubnets.join(' ')} TUNNEL, dpdaction=restart\n`
  );
}

export function renderStatusAll(daemon: DaemonView, sas: readonly SaView[], name?: string): string {
  let text = `Status of IKE charon daemon (strongSwan ${daemon.version}, ${daemon.kernel}, ${daemon.machine}):\n`;
  text += `  uptime: ${timeDelta(daemon.uptimeSeconds)}, since ${timestamp(daemon.startedAt)}\n`;
  text += '  malloc: sbrk 2433024, mmap 0, used 551888, free 1881136\n';
  text += '  worker threads: 11 of 16 idle, 5/0/0/0 working, job queue: 0/0/0/0, scheduled: 3\n';
  text += `  loaded plugins: ${LOADED_PLUGINS}\n`;
  text += 'Listening IP addresses:\n';
  for (const ip of daemon.listening) text += `  ${ip}\n`;
  text += 'Connections:\n';
  for (const conn of daemon.conns) if (name === undefined || conn.name === name) text += connLines(conn);
  return text + saSection(sas, true, name);
}

/** CHILD SA lifetime of the IBM chart (lifetime 1h): swanctl counts down to the hard expiry too. */
const CHILD_LIFETIME = 3600;

/** list_sas.c: `%6s bytes, %5s packets`, then `, %5ss ago` once the kernel has seen a packet. */
function swanctlCounter(dir: 'in' | 'out', spi: string, bytes: number, packets: number): string {
  const used = packets > 0 ? `, ${'0'.padStart(5)}s ago` : '';
  return `    ${dir.padEnd(3)} ${spi}, ${String(bytes).padStart(6)} bytes, ${String(packets).padStart(5)} packets${used}\n`;
}

function swanctlSa(sa: SaView): string {
  const star = (mine: boolean) => (mine ? '*' : '');
  if (sa.state === 'connecting') {
    return (
      `${sa.conn.name}: #${sa.ikeUniqueId}, CONNECTING, IKEv2, ${sa.ikeSpiInitiator}_i* 0000000000000000_r\n` +
      `  local  '%any' @ ${sa.localAddress}[500]\n` +
      `  remote '%any' @ ${sa.remoteAddress}[500]\n` +
      '  active:  IKE_VENDOR IKE_INIT IKE_NATD IKE_CERT_PRE IKE_AUTH IKE_CERT_POST IKE_CONFIG IKE_AUTH_LIFETIME IKE_MOBIKE IKE_ESTABLISH CHILD_CREATE\n'
    );
  }
  const ago = Math.floor(sa.establishedSecondsAgo);
  let text =
    `${sa.conn.name}: #${sa.ikeUniqueId}, ESTABLISHED, IKEv2, ${sa.ikeSpiInitiator}_i${star(sa.initiator)} ${sa.ikeSpiResponder}_r${star(!sa.initiator)}\n` +
    `  local  '${sa.conn.localId}' @ ${sa.localAddress}[4500]\n` +
    `  remote '${sa.conn.remoteId}' @ ${sa.remoteAddress}[4500]\n` +
    '  AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048\n' +
    `  established ${ago}s ago, reauth in ${Math.floor(sa.reauthSeconds)}s\n`;
  if (sa.state !== 'installed') return text;
  const rekey = Math.floor(sa.rekeySeconds);
  const installed = Math.max(0, CHILD_LIFETIME - 9 * 60 - rekey);
  text +=
    `  ${sa.conn.name}: #${sa.childUniqueId}, reqid ${sa.reqid}, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-256/HMAC_SHA2_256_128\n` +
    `    installed ${installed}s ago, rekeying in ${rekey}s, expires in ${CHILD_LIFETIME - installed}s\n` +
    swanctlCounter('in', sa.espSpiIn, sa.bytesIn, sa.packetsIn) +
    swanctlCounter('out', sa.espSpiOut, sa.bytesOut, sa.packetsOut) +
    `    local  ${sa.localTs.join(' ')}\n` +
    `    remote ${sa.remoteTs.join(' ')}\n`;
  return text;
}

/** `swanctl --list-sas`: every IKE SA with its CHILD SAs; nothing at all when there is none. */
export function renderListSas(sas: readonly SaView[]): string {
  return sas.map(swanctlSa).join('');
}
