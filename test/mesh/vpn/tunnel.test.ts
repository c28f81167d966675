import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseIpsecStatus, parseSwanctlSas, type SaListing } from '../../../src/mesh/vpn/strongswan.ts';
import { peerTunnel } from '../../../src/mesh/vpn/tunnel.ts';

const text = (file: string) =>
  readFileSync(new URL(`../../fixtures/vpn/captured/${file}`, import.meta.url), 'utf8');
const ok = (listing: SaListing) => {
  assert.ok(listing.ok);
  return listing;
};

const ICP = { name: 'icp', cidrs: ['10.1.0.0/16', '10.0.0.0/24'] };
const IKS = { name: 'iks', cidrs: ['172.30.0.0/16', '172.21.0.0/16'] };

describe('peerTunnel: one side judged towards one peer, on the captured states', () => {
  const cases = [
    ['ipsec-statusall_up_icp.txt', 'ipsec', ICP, IKS, 'up'],
    ['swanctl-list-sas_up_iks.txt', 'swanctl', IKS, ICP, 'up'],
    ['ipsec-statusall_half-up_iks.txt', 'ipsec', IKS, ICP, 'no-child'],
    ['swanctl-list-sas_half-up_icp.txt', 'swanctl', ICP, IKS, 'no-child'],
    ['ipsec-statusall_connecting_icp.txt', 'ipsec', ICP, IKS, 'connecting'],
    ['swanctl-list-sas_connecting_icp.txt', 'swanctl', ICP, IKS, 'connecting'],
    ['ipsec-statusall_no-sa_iks.txt', 'ipsec', IKS, ICP, 'no-sa'],
    ['swanctl-list-sas_no-sa_iks.txt', 'swanctl', IKS, ICP, 'no-sa'],
  ] as const;
  for (const [file, tool, own, peer, state] of cases) {
    it(`${file} → ${state}`, () => {
      const listing = ok(tool === 'ipsec' ? parseIpsecStatus(text(file)) : parseSwanctlSas(text(file)));
      const view = peerTunnel(listing.sas, listing.conns, own, peer, true);
      assert.equal(view.state, state);
      assert.equal(view.peer, peer.name);
    });
  }

  it('an INSTALLED CHILD SA that carries every CIDR has no gaps', () => {
    const listing = ok(parseIpsecStatus(text('ipsec-statusall_up_icp.txt')));
    const view = peerTunnel(listing.sas, listing.conns, ICP, IKS, true);
    assert.deepEqual([view.missingRemote, view.missingLocal], [[], []]);
    assert.equal(view.detail, 'k8s-conn[1] ESTABLISHED, CHILD k8s-conn{1} INSTALLED');
    assert.equal(view.conn, 'k8s-conn');
  });

  it('names the CIDRs an INSTALLED CHILD SA does not carry, on either end', () => {
    const listing = ok(parseIpsecStatus(text('ipsec-statusall_up_iks.txt')));
    const wider = { name: 'icp', cidrs: ['10.1.0.0/16', '10.2.0.0/16', '10.0.0.0/24'] };
    const view = peerTunnel(
      listing.sas,
      listing.conns,
      { name: 'iks', cidrs: [...IKS.cidrs, '172.31.0.0/16'] },
      wider,
      true,
    );
    assert.deepEqual(view.missingRemote, ['10.2.0.0/16']);
    assert.deepEqual(view.missingLocal, ['172.31.0.0/16']);
  });

  it('with several peers, pairs SAs with a peer by traffic selectors; an unmatched peer has no SA', () => {
    const listing = ok(parseIpsecStatus(text('ipsec-statusall_up_icp.txt')));
    assert.equal(peerTunnel(listing.sas, listing.conns, ICP, IKS, false).state, 'up');
    const other = { name: 'aks', cidrs: ['192.168.0.0/16'] };
    assert.equal(peerTunnel(listing.sas, listing.conns, ICP, other, false).state, 'no-sa');
    // A refused CHILD SA leaves only the configured connection to pair by.
    const half = ok(parseIpsecStatus(text('ipsec-statusall_half-up_icp.txt')));
    assert.equal(peerTunnel(half.sas, half.conns, ICP, IKS, false).state, 'no-child');
    assert.equal(peerTunnel(half.sas, half.conns, ICP, other, false).state, 'no-sa');
  });
});
