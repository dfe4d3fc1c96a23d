// The IDS test captures recorded with real tools on lo (collector/test/fixtures/ids/record-captures.sh, through
// helpers/idsCaptures.ts): checked with tshark that each file holds what its scenario promises, so the detection
// tests built on them start from known traffic. Expectations come from tshark and the tools' own parameters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDS_DETECTORS, idsCapturePath, recordedIdsCaptures, type IdsCapture } from '../helpers/idsCaptures.ts';
import { have, tshark } from '../pcap/tools.ts';

const rec = await recordedIdsCaptures();
const skip = 'skip' in rec ? rec.skip : !have('tshark') && 'tshark not installed';
const ok = 'skip' in rec ? null : rec;

const ATTACKS = ['nmap-syn', 'nmap-connect', 'nmap-udp', 'nmap-null', 'nmap-xmas', 'nmap-fin', 'hping-syn-flood',
  'hping-udp-flood', 'hping-icmp-flood', 'hping-land', 'hping-syn-fin', 'hping-invalid', 'ssh-bruteforce'];
const BENIGN = ['benign-ssh', 'benign-http', 'benign-dns'];

function capture(name: string): IdsCapture {
  const c = ok!.manifest.captures.find((x) => x.file === `${name}.pcap`);
  assert.ok(c, `${name}.pcap in manifest.json`);
  return c;
}
function target(name: string): number {
  const p = capture(name).ports.target;
  assert.ok(p, `${name}: manifest has its target port`);
  return p;
}
/** tshark rows of FIELDS for the frames of NAME that match FILTER. */
function rows(name: string, fields: string[], filter: string, extra: string[] = []): Record<string, string>[] {
  return tshark(idsCapturePath(ok!, `${name}.pcap`), fields, [...extra, '-Y', filter]);
}
function count(name: string, filter: string, extra: string[] = []): number {
  return rows(name, ['frame.number'], filter, extra).length;
}
function distinct(name: string, field: string, filter: string, extra: string[] = []): number[] {
  return [...new Set(rows(name, [field], filter, extra).map((r) => Number(r[field])))].sort((a, b) => a - b);
}

describe('IDS captures recorded with real tools on lo', { skip }, () => {
  it('the manifest lists every scenario with expectations in the detector vocabulary', () => {
    const m = ok!.manifest;
    assert.deepEqual(m.captures.map((c) => c.file.replace(/\.pcap$/, '')).sort(), [...ATTACKS, ...BENIGN].sort());
    for (const c of m.captures) {
      for (const id of [...c.expect, ...c.allow]) assert.ok((IDS_DETECTORS as readonly string[]).includes(id), `${c.file}: ${id}`);
      if (BENIGN.includes(c.file.replace(/\.pcap$/, ''))) assert.deepEqual(c.expect, [], c.file);
      else assert.ok(c.expect.length > 0, `${c.file} expects a detector`);
      assert.equal(c.dropped, 0, `${c.file}: tcpdump says the kernel dropped packets`);
      assert.ok(c.command.includes('127.0.0.1'), `${c.file}: ${c.command}`);
    }
    assert.deepEqual(capture('nmap-syn').expect, ['port-scan']);
    assert.deepEqual(capture('hping-syn-flood').expect, ['syn-flood']);
    assert.deepEqual(capture('ssh-bruteforce').expect, ['brute-force']);
  });

  it('every file has the packets tcpdump counted, all IPv4 between 127.0.0.1 and 127.0.0.1', () => {
    for (const c of ok!.manifest.captures) {
      const name = c.file.replace(/\.pcap$/, '');
      const all = rows(name, ['ip.src', 'ip.dst', 'ipv6.src'], 'frame');
      assert.equal(all.length, c.packets, `${c.file}: frames vs tcpdump's count`);
      assert.ok(c.packets > 0, c.file);
      for (const r of all) {
        assert.equal(r['ipv6.src'], '', `${c.file}: IPv6`);
        // All occurrences, ICMP's quoted headers included.
        for (const a of [...r['ip.src'].split(','), ...r['ip.dst'].split(',')]) assert.equal(a, '127.0.0.1', c.file);
      }
    }
  });

  it('nmap SYN and connect scans: a SYN to each port, refused', () => {
    const syn = distinct('nmap-syn', 'tcp.dstport', 'tcp.flags == 0x002');
    assert.ok(syn.length >= 900, `nmap -sS: SYNs to ${syn.length} ports`);
    assert.ok(syn[0] >= 1 && syn[syn.length - 1] <= 1000);
    assert.ok(count('nmap-syn', 'tcp.flags == 0x014') >= 900, 'RST/ACK answers');
    const connect = distinct('nmap-connect', 'tcp.dstport', 'tcp.flags == 0x002');
    assert.ok(connect.length >= 450, `nmap -sT: SYNs to ${connect.length} ports`);
    assert.ok(connect[0] >= 1 && connect[connect.length - 1] <= 500);
  });

  it('nmap UDP scan: a datagram to each port, port unreachable back', () => {
    const ports = distinct('nmap-udp', 'udp.dstport', 'udp && !icmp');
    assert.ok(ports.length >= 180, `nmap -sU: datagrams to ${ports.length} ports`);
    assert.ok(ports[0] >= 1 && ports[ports.length - 1] <= 200);
    assert.ok(count('nmap-udp', 'icmp.type == 3 && icmp.code == 3') >= 180, 'ICMP port unreachables');
  });

  it('nmap NULL, Xmas and FIN scans: probes with those flags to ~200 ports', () => {
    for (const [name, flags] of [['nmap-null', '0x000'], ['nmap-xmas', '0x029'], ['nmap-fin', '0x001']] as const) {
      const ports = distinct(name, 'tcp.dstport', `tcp.flags == ${flags}`);
      assert.ok(ports.length >= 180, `${name}: flags ${flags} to ${ports.length} ports`);
    }
  });

  it('hping3 floods: ≥ 2500 packets each within seconds', () => {
    const span = (name: string, filter: string) => {
      const t = rows(name, ['frame.time_relative'], filter).map((r) => Number(r['frame.time_relative']));
      return { n: t.length, seconds: t.length ? t[t.length - 1] - t[0] : 0 };
    };
    const syn = span('hping-syn-flood', `tcp.flags == 0x002 && tcp.dstport == ${target('hping-syn-flood')}`);
    assert.ok(syn.n >= 2500 && syn.seconds < 10, `SYN flood: ${syn.n} SYNs in ${syn.seconds} s`);
    assert.ok(distinct('hping-syn-flood', 'tcp.srcport', 'tcp.flags == 0x002').length >= 2500, 'from as many source ports');
    const udp = span('hping-udp-flood', `udp.dstport == ${target('hping-udp-flood')} && !icmp`);
    assert.ok(udp.n >= 2500 && udp.seconds < 10, `UDP flood: ${udp.n} datagrams in ${udp.seconds} s`);
    assert.equal(count('hping-udp-flood', 'icmp'), 0, 'the UDP flood has a listener: no port unreachables');
    const icmp = span('hping-icmp-flood', 'icmp.type == 8');
    assert.ok(icmp.n >= 2500 && icmp.seconds < 10, `ICMP flood: ${icmp.n} echo requests in ${icmp.seconds} s`);
    assert.ok(count('hping-icmp-flood', 'icmp.type == 0') >= 2500, 'echo replies');
  });

  it('hping3 crafted packets: LAND, SYN+FIN, a TCP header length under 20', () => {
    const p = target('hping-land');
    const land = rows('hping-land', ['tcp.srcport', 'tcp.dstport'], 'tcp.flags == 0x002');
    assert.ok(land.length >= 3, `LAND SYNs: ${land.length}`);
    for (const r of land) assert.deepEqual([Number(r['tcp.srcport']), Number(r['tcp.dstport'])], [p, p]);
    assert.ok(count('hping-syn-fin', 'tcp.flags.syn == 1 && tcp.flags.fin == 1') >= 15, 'SYN+FIN packets');
    assert.equal(count('hping-syn-flood', 'tcp.srcport == tcp.dstport'), 0, 'no accidental LAND packet in the SYN flood');
    assert.ok(count('hping-invalid', 'tcp.hdr_len < 20') >= 15, 'TCP header length < 20');
  });

  it('ssh-bruteforce: ≥ 25 SSH connections, each with banners and a key exchange, to the throwaway sshd', () => {
    const p = target('ssh-bruteforce');
    const asSsh = ['-d', `tcp.port==${p},ssh`];
    const streams = distinct('ssh-bruteforce', 'tcp.stream', `tcp.flags == 0x002 && tcp.dstport == ${p}`);
    assert.ok(streams.length >= 25, `connections: ${streams.length}`);
    const serverBanners = rows('ssh-bruteforce', ['ssh.protocol'], `tcp.srcport == ${p} && ssh.protocol`, asSsh);
    assert.ok(serverBanners.length >= 25, `server banners: ${serverBanners.length}`);
    assert.match(serverBanners[0]['ssh.protocol'], /^SSH-2\.0-OpenSSH/);
    assert.ok(count('ssh-bruteforce', `tcp.dstport == ${p} && ssh.protocol`, asSsh) >= 25, 'client banners');
    assert.ok(count('ssh-bruteforce', `tcp.dstport == ${p} && ssh.message_code == 21`, asSsh) >= 25, 'client NEWKEYS (kex done)');
  });

  it('benign SSH: 3 sessions with key exchange, one carrying 256 KiB', () => {
    const p = target('benign-ssh');
    const asSsh = ['-d', `tcp.port==${p},ssh`];
    assert.equal(distinct('benign-ssh', 'tcp.stream', `tcp.flags == 0x002 && tcp.dstport == ${p}`).length, 3);
    assert.equal(count('benign-ssh', `tcp.srcport == ${p} && ssh.protocol`, asSsh), 3, 'server banners');
    const up = rows('benign-ssh', ['tcp.len'], `tcp.dstport == ${p}`).reduce((s, r) => s + Number(r['tcp.len']), 0);
    assert.ok(up > 262144, `client to server: ${up} bytes`);
  });

  it('benign HTTP: ≥ 35 GETs answered 200', () => {
    const asHttp = ['-d', `tcp.port==${target('benign-http')},http`];
    assert.ok(count('benign-http', 'http.request.method == "GET"', asHttp) >= 35, 'GET requests');
    assert.ok(count('benign-http', 'http.response.code == 200', asHttp) >= 35, '200 responses');
    assert.equal(count('benign-http', 'http.response.code != 200', asHttp), 0);
  });

  it('benign DNS: ≥ 35 queries, each answered', () => {
    const asDns = ['-d', `udp.port==${target('benign-dns')},dns`];
    assert.ok(count('benign-dns', 'dns.flags.response == 0', asDns) >= 35, 'queries');
    assert.ok(count('benign-dns', 'dns.flags.response == 1 && dns.flags.rcode == 0', asDns) >= 35, 'NOERROR answers');
    assert.ok(count('benign-dns', 'dns.a', asDns) >= 25, 'A records');
    assert.ok(distinct('benign-dns', 'udp.srcport', 'dns.flags.response == 0', asDns).length >= 35, 'a source port per query');
  });
});
