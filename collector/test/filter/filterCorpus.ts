// The filter corpus: valid filters with the sample flows each matches (written from nfdump's man page and
// grammar, not from running dvflow), and invalid filters with where and why they fail. Exported for the
// conformance test that compares `dvflow query` with `nfdump -R` totals on real flows.

/** Where a form comes from. */
export type Dialect =
  /** Accepted by nfdump 1.7.1 (Debian 12) and by 1.7.8. */
  | 'nfdump'
  /** nfdump 1.7.1 only (e.g. `net 172.16/16`, `flowdir 255`, `src and dst port`). */
  | '1.7.1'
  /** nfdump 1.7.8 only (e.g. `icmp type 8`, `first seen`, `ttl`, `flags CE`), written from its grammar/man page. */
  | '1.7.8'
  /** dvflow's own terms. */
  | 'dvflow';

export interface FilterCorpusEntry {
  filter: string;
  /** Valid in Debian 12's nfdump 1.7.1 (`nfdump -Z` accepts it). */
  nfdump171: boolean;
  dialect: Dialect;
  /** Ids of sampleFlows the filter matches. */
  matches: string[];
  /**
   * False when `nfdump -R` totals cannot equal dvflow's by construction: AS terms (nfdump 1.7.1 refuses them
   * at run time without a geoDB), ident (nfcapd's -I string), sysid (nfcapd's own numbering), reverse
   * counters, 1.7.8-only and dvflow terms.
   */
  comparable: boolean;
  /** Needs the exporter id list (sampleExporterIds) to compile. */
  needsExporterIds?: true;
}

const ALL = ['web', 'dns', 'ping6', 'syn', 'ssh6', 'ping4', 'gre', 'pcap', 'noaddr', 'esp'];

function e(filter: string, dialect: Dialect, matches: string[], comparable = dialect === 'nfdump' || dialect === '1.7.1'): FilterCorpusEntry {
  return { filter, nfdump171: dialect === 'nfdump' || dialect === '1.7.1', dialect, matches, comparable };
}

/** Valid filters and the sample flows they match. */
export const filterCorpus: FilterCorpusEntry[] = [
  // Everything / families / protocols
  e('', 'nfdump', ALL),
  e('any', 'nfdump', ALL),
  e('ipv4', 'nfdump', ['web', 'dns', 'syn', 'ping4', 'gre', 'pcap', 'esp']),
  e('inet6', 'nfdump', ['ping6', 'ssh6']),
  e('not ipv4', 'nfdump', ['ping6', 'ssh6', 'noaddr']),
  e('proto tcp', 'nfdump', ['web', 'syn', 'ssh6', 'pcap']),
  e('proto udp', 'nfdump', ['dns']),
  e('PROTO UDP', 'nfdump', ['dns']),
  e('proto icmp', 'nfdump', ['ping4']),
  e('proto icmp6', 'nfdump', ['ping6']),
  e('proto 47', 'nfdump', ['gre']),
  e('proto gre', 'nfdump', ['gre']),
  e('proto esp or proto ah', 'nfdump', ['esp']),
  e('proto 6 and not proto tcp', 'nfdump', []),
  e('Proto Tcp And Port 80', 'nfdump', ['web']),
  e('proto tc', '1.7.8', ['web', 'syn', 'ssh6', 'pcap']),
  // Addresses
  e('ip 10.0.0.1', 'nfdump', ['web', 'ping4']),
  e('host 10.0.0.1', 'nfdump', ['web', 'ping4']),
  e('src ip 10.0.0.1', 'nfdump', ['web']),
  e('dst ip 10.0.0.1', 'nfdump', ['ping4']),
  e('src host 192.168.1.10 or dst host 192.168.1.10', 'nfdump', ['web', 'syn']),
  e('ip 2001:db8::1', 'nfdump', ['ping6']),
  e('src ip 2001:db8:1::10', 'nfdump', ['ssh6']),
  e('dst ip 2001:DB8:2:0::20', 'nfdump', ['ssh6']),
  e('ip 8.8.8.8 and proto udp', 'nfdump', ['dns']),
  e('src and dst ip 10.0.0.1', '1.7.1', []),
  e('ip in [10.0.0.1 10.0.0.2]', 'nfdump', ['web', 'dns', 'ping4']),
  e('ip in [10.0.0.0/24 192.0.2.0/24]', 'nfdump', ['web', 'dns', 'ping4', 'esp']),
  // 1.7.1's grammar has no `, CIDR` list item (syntax error at '/'); 1.7.8's has.
  e('ip in [10.0.0.0/24, 192.0.2.0/24]', '1.7.8', ['web', 'dns', 'ping4', 'esp']),
  e('ip in [10.0.0.1, 10.0.0.2 , 8.8.8.8]', 'nfdump', ['web', 'dns', 'ping4']),
  e('src ip in [ 203.0.113.0/24 2001:db8:1::/48 ]', 'nfdump', ['syn', 'ssh6']),
  e('dst ip in [192.168.1.10]', 'nfdump', ['web', 'syn']),
  e('ip in [2001:db8::/32]', 'nfdump', ['ping6', 'ssh6']),
  e('not ip in [10.0.0.0/8]', 'nfdump', ['ping6', 'syn', 'ssh6', 'gre', 'noaddr', 'esp']),
  e('not src ip in [10.0.0.0/8 2001:db8::/32]', 'nfdump', ['syn', 'gre', 'noaddr', 'esp']),
  // Networks
  e('net 10.0.0.0/24', 'nfdump', ['web', 'dns', 'ping4']),
  e('src net 10.0.0.0/8', 'nfdump', ['web', 'dns', 'ping4', 'pcap']),
  e('dst net 192.168.0.0/16', 'nfdump', ['web', 'syn']),
  e('net 192.168.1.0 255.255.255.0', 'nfdump', ['web', 'syn']),
  e('net 172.16/16', '1.7.1', []),
  e('net 10.1/16', '1.7.1', ['pcap']),
  e('net 2001:db8::/32', 'nfdump', ['ping6', 'ssh6']),
  e('src net 2001:db8:1::/48', 'nfdump', ['ssh6']),
  e('net 0.0.0.0/0', 'nfdump', ['web', 'dns', 'syn', 'ping4', 'gre', 'pcap', 'esp']),
  e('net ::/0', 'nfdump', ['ping6', 'ssh6']),
  e('dst net 198.51.100.0/30', 'nfdump', ['gre']),
  e('net 10.0.0.1/32', 'nfdump', ['web', 'ping4']),
  e('src net 10.0.0.77/24', 'nfdump', ['web', 'dns', 'ping4']),
  // Ports
  e('port 80', 'nfdump', ['web']),
  e('src port 53000', 'nfdump', ['dns']),
  e('dst port 53', 'nfdump', ['dns']),
  e('dst port > 1024', 'nfdump', ['pcap']),
  e('src port < 1024', 'nfdump', ['ping6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('port >= 50000', 'nfdump', ['web', 'dns', 'ssh6']),
  e('port le 22', 'nfdump', ['ping6', 'ssh6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('port gt 8000 and port lt 9000', 'nfdump', ['web', 'dns', 'syn', 'ssh6', 'pcap']),
  e('port == 443', 'nfdump', ['syn']),
  e('port eq 22', 'nfdump', ['ssh6']),
  e('port in [22 80 443]', 'nfdump', ['web', 'syn', 'ssh6']),
  e('dst port in [53, 8080]', 'nfdump', ['dns', 'pcap']),
  e('not port in [80 443]', 'nfdump', ['dns', 'ping6', 'ssh6', 'ping4', 'gre', 'pcap', 'noaddr', 'esp']),
  e('src port in [1234]', 'nfdump', ['pcap']),
  e('port 0x50', 'nfdump', ['web']),
  e('src and dst port 0', '1.7.1', ['ping6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('src or dst port 80', '1.7.1', ['web']),
  // ICMP
  e('icmp-type 8', 'nfdump', ['ping4']),
  e('icmp-type 128', 'nfdump', ['ping6']),
  e('icmp-code 0', 'nfdump', ['ping6', 'ping4']),
  e('icmp type 8', '1.7.8', ['ping4']),
  e('icmp-type > 100', '1.7.8', ['ping6']),
  // Engine, exporter
  e('engine-type 1', 'nfdump', ['web', 'dns', 'ping4', 'esp']),
  e('engine-id 5', 'nfdump', ['syn', 'gre']),
  e('engine-type > 0', 'nfdump', ['web', 'dns', 'ping4', 'esp']),
  e('engine type 0', '1.7.8', ['ping6', 'syn', 'ssh6', 'gre', 'pcap', 'noaddr']),
  e('engine id 3', '1.7.8', ['esp']),
  e('router ip 172.16.0.2', 'nfdump', ['syn', 'gre', 'esp']),
  e('router ip 2001:db8::100', 'nfdump', ['ping6', 'ssh6']),
  e('exporter ip 172.16.0.1', '1.7.8', ['web', 'dns', 'ping4', 'noaddr']),
  e('exporter 172.16.0.2', 'dvflow', ['syn', 'gre', 'esp']),
  e('exporter dvs-lab', 'dvflow', ['ping6', 'ssh6']),
  e('exporter "edge-rtr"', 'dvflow', ['syn', 'gre', 'esp']),
  { ...e('ident dvs-prod', 'nfdump', ['web', 'dns', 'ping4']), comparable: false },
  { ...e('sysid 2', 'nfdump', ['syn', 'gre', 'esp']), comparable: false, needsExporterIds: true },
  { ...e('sysid 1', 'nfdump', ['web', 'dns', 'ping4']), comparable: false, needsExporterIds: true },
  { ...e('exporter id 3', '1.7.8', ['ping6', 'ssh6']), needsExporterIds: true },
  { ...e('exporter sysid > 1', '1.7.8', ['syn', 'gre', 'esp', 'ping6', 'ssh6']), needsExporterIds: true },
  // AS
  { ...e('as 65001', 'nfdump', ['web', 'gre']), comparable: false },
  { ...e('src as 65001', 'nfdump', ['web', 'gre']), comparable: false },
  { ...e('dst as 65002', 'nfdump', ['web', 'syn']), comparable: false },
  { ...e('as > 65000', 'nfdump', ['web', 'syn', 'ssh6', 'gre']), comparable: false },
  { ...e('next as 65003', 'nfdump', ['web']), comparable: false },
  { ...e('prev as 65004', 'nfdump', ['web']), comparable: false },
  { ...e('as in [15169 64496]', 'nfdump', ['dns', 'syn']), comparable: false },
  e('next as in [65003]', '1.7.8', ['web']),
  { ...e('src and dst as 65001', '1.7.1', ['gre']), comparable: false },
  // Interfaces, VLAN, masks, MAC
  e('if 3', 'nfdump', ['web', 'dns', 'ping4']),
  e('in if 3', 'nfdump', ['web', 'dns', 'ping4']),
  e('out if 5', 'nfdump', ['web', 'ping6', 'syn']),
  e('if 11', 'nfdump', ['gre']),
  e('vlan 100', 'nfdump', ['web', 'dns', 'ping4']),
  e('src vlan 100', 'nfdump', ['web', 'dns', 'ping4']),
  e('dst vlan 200', 'nfdump', ['web', 'syn']),
  e('vlan 400', 'nfdump', ['ssh6']),
  e('mask 24', 'nfdump', ['web', 'dns', 'ping4']),
  e('dst mask 16', 'nfdump', ['web', 'syn']),
  e('src mask 48', 'nfdump', ['ssh6']),
  e('mac 00:50:56:aa:bb:cc', 'nfdump', ['web', 'noaddr']),
  e('in src mac 00:50:56:aa:bb:cc', 'nfdump', ['web', 'noaddr']),
  e('in dst mac 00:50:56:dd:ee:ff', 'nfdump', ['web']),
  e('out mac 02:00:00:00:00:02', 'nfdump', ['ssh6']),
  e('src mac 02:00:00:00:00:01', 'nfdump', ['ssh6']),
  e('dst mac 00:50:56:DD:EE:FF', 'nfdump', ['web']),
  // TCP flags
  e('flags S', 'nfdump', ['web', 'syn', 'pcap']),
  e('flags SA', 'nfdump', ['web']),
  // nfdump 1.7.8's code tests "all listed flags set" and negates that, so `not flags AFRPU` only drops flows
  // with all five: web (FSPA) still matches, despite the man page's "only SYN" example. 1.7.1 reads a negated
  // flags term as "none set"; where the dialects differ 1.7.8 wins (filterConformance checks 1.7.1's reading
  // through its dvflow spelling).
  e('flags S and not flags AFRPU', 'nfdump', ['web', 'syn', 'pcap']),
  e('flags X', 'nfdump', []),
  e('flags AP', 'nfdump', ['web', 'ssh6']),
  e('flags F', 'nfdump', ['web', 'ssh6']),
  e('flags 2', 'nfdump', ['syn']),
  e('flags > 16', 'nfdump', ['web', 'ssh6', 'pcap']),
  e('proto udp and flags S', 'nfdump', []),
  e('flags 194', '1.7.8', ['pcap']),
  e('flags CE', '1.7.8', ['pcap']),
  e('flags =S', '1.7.8', ['syn']),
  e('flags =SA', '1.7.8', []),
  // ToS
  e('tos 184', 'nfdump', ['dns']),
  e('src tos 32', 'nfdump', ['ssh6']),
  e('dst tos 40', 'nfdump', ['ssh6']),
  e('tos > 0', 'nfdump', ['dns', 'ssh6', 'pcap']),
  e('src or dst tos 40', '1.7.1', ['ssh6']),
  // Counters and rates
  e('bytes > 1k', 'nfdump', ['web', 'ping6', 'ssh6', 'gre', 'pcap', 'esp']),
  e('bytes >= 2g', 'nfdump', ['gre']),
  e('bytes > 1M', 'nfdump', ['ssh6', 'gre']),
  e('packets > 1m', 'nfdump', ['gre']),
  e('packets < 3', 'nfdump', ['dns', 'syn', 'ping4']),
  e('in packets = 20', 'nfdump', ['web']),
  e('in bytes > 1000 and proto tcp', 'nfdump', ['web', 'ssh6', 'pcap']),
  e('bytes > 10k and packets < 1k', 'nfdump', ['web']),
  e('out bytes > 0', 'nfdump', []),
  e('not out packets > 0', 'nfdump', ALL),
  e('flows = 1', 'nfdump', ALL),
  e('flows > 1', 'nfdump', []),
  e('duration > 5000', 'nfdump', ['ping6', 'ssh6', 'gre']),
  e('duration = 0', 'nfdump', ['dns', 'syn', 'ping4']),
  e('duration < 1000', 'nfdump', ['dns', 'syn', 'ping4', 'pcap']),
  e('pps > 100', 'nfdump', ['gre']),
  e('pps = 0', 'nfdump', ['dns', 'syn', 'ping4']),
  e('bps > 50000', 'nfdump', ['web', 'ssh6', 'gre']),
  e('bps >= 8000 and bps <= 8000', 'nfdump', ['esp']),
  e('bpp > 1000', 'nfdump', ['ssh6', 'gre']),
  e('bpp = 60', 'nfdump', ['dns', 'syn']),
  // Direction, next hops, times, TTL, misc
  e('flowdir ingress', 'nfdump', ['web', 'ping6', 'syn', 'ping4']),
  e('flowdir egress', 'nfdump', ['dns', 'ssh6', 'esp']),
  e('flowdir 1', 'nfdump', ['dns', 'ssh6', 'esp']),
  e('flowdir 2', '1.7.1', []),
  e('not flowdir ingress and not flowdir egress', 'nfdump', ['gre', 'pcap', 'noaddr']),
  e('dir 0', '1.7.1', ['web', 'ping6', 'syn', 'ping4']),
  e('next ip 10.0.0.254', 'nfdump', ['web', 'dns']),
  e('next ip in [10.0.0.254 2001:db8::fe]', 'nfdump', ['web', 'dns', 'ssh6']),
  e('bgpnext ip 10.0.0.253', '1.7.1', ['web']),
  e('bgp next ip 2001:db8::fd', '1.7.8', ['ssh6']),
  e('next net 10.0.0.0/24', '1.7.8', ['web', 'dns']),
  e('first seen > 2024-01-15T10:05', '1.7.8', ['gre', 'pcap', 'noaddr', 'esp']),
  e('last seen < 2024-01-15T10:01', '1.7.8', ['web']),
  e('first seen >= 2024-01-15T10:04:00.000 and last seen <= 2024-01-15T10:05:00', '1.7.8', ['ssh6', 'ping4']),
  e('first seen = 2024-01-15T10:00:00.000', '1.7.8', ['web']),
  e('min ttl 60', '1.7.8', ['web']),
  e('max ttl > 63', '1.7.8', ['web', 'dns', 'ping6', 'ssh6', 'ping4', 'pcap', 'esp']),
  e('ttl 48', '1.7.8', ['syn']),
  e('ttl < 50', '1.7.8', ['syn', 'gre', 'noaddr']),
  e('ttl equal', '1.7.8', ['dns', 'ping6', 'syn', 'ping4', 'gre', 'noaddr', 'esp']),
  e('nfversion 5', '1.7.1', ['syn', 'gre']),
  e('nfversion > 9', '1.7.1', ['ping6', 'ssh6', 'noaddr']),
  e('fwdstat 2', 'nfdump', ['ssh6']),
  e('fwdstat Forw', 'nfdump', ['web', 'dns', 'ping6', 'ping4']),
  e('observation domain id 8', 'nfdump', ['ping6', 'ssh6']),
  // Precedence, negation, grouping
  e('src ip 10.0.0.3 or dst port 80 and proto udp', 'nfdump', ['ping4']),
  e('proto udp or proto tcp and port 22', 'nfdump', ['dns', 'ssh6']),
  e('not proto tcp and port 0', 'nfdump', ['ping6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('not (proto tcp or proto udp)', 'nfdump', ['ping6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('!proto tcp && !proto udp || port 80', 'nfdump', ['web', 'ping6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('(port 80 or port 443) and not src net 203.0.113.0/24', 'nfdump', ['web']),
  e('not not proto gre', 'nfdump', ['gre']),
  e('proto tcp and (port 80 or port 443) or proto udp', 'nfdump', ['web', 'syn', 'dns']),
  e('((ipv6))', 'nfdump', ['ping6', 'ssh6']),
  // Comments, layout, case
  e('proto tcp # web traffic\nand (port 80 or port 443) # tls too\n', 'nfdump', ['web', 'syn']),
  e('# leading comment\n  ipv6\n', 'nfdump', ['ping6', 'ssh6']),
  e('SRC IP 10.0.0.1 AND DST PORT 80', 'nfdump', ['web']),
  e('\tproto\tudp\n', 'nfdump', ['dns']),
  // dvflow's own terms
  e('portgroup PG-Web', 'dvflow', ['web', 'dns', 'ping4']),
  e('out portgroup PG-DB', 'dvflow', ['web', 'syn']),
  e('in portgroup "PG-Lab"', 'dvflow', ['ping6', 'ssh6']),
  e('portgroup PG-Backup', 'dvflow', ['ssh6']),
  e('not portgroup PG-Web and ipv4', 'dvflow', ['syn', 'gre', 'pcap', 'esp']),
  e('vip www', 'dvflow', ['web', 'syn']),
  e('vip 192.168.1.10:443', 'dvflow', ['syn']),
  e('vip 192.168.1.10', 'dvflow', ['web', 'syn']),
  e('vip [2001:db8:2::20]:22', 'dvflow', ['ssh6']),
  e('vip "ssh-v6"', 'dvflow', ['ssh6']),
  e('source pcap', 'dvflow', ['pcap']),
  e('source netflow and vni 5001', 'dvflow', ['web']),
  e('vni 5001', 'dvflow', ['web', 'pcap']),
  e('vni > 0', 'dvflow', ['web', 'ssh6', 'pcap']),
  e('vm web-01', 'dvflow', ['web']),
  e('out vm db-01 or in vm db-01', 'dvflow', ['syn']),
  e('in vm db-01', 'dvflow', []),
  e('backend web2', 'dvflow', ['syn']),
  e('leg client-vip or leg lb-server', 'dvflow', ['web', 'syn']),
  e('vip www and not duplicate', 'dvflow', ['web']),
  e('duplicate', 'dvflow', ['syn']),
  e('tenant src ip 172.16.5.1', 'dvflow', ['web']),
  e('tenant net 172.16.0.0/16 and tenant dst port 8080', 'dvflow', ['web']),
  // Capture facts of port-mirror flows (only `pcap` has any: ERSPAN II over GRE, tagged 10, from 192.0.2.100).
  e('encap gre', 'dvflow', ['pcap']),
  e('encap ERSPAN2 and encap vlan', 'dvflow', ['pcap']),
  e('encap erspan3 or encap vxlan or encap qinq', 'dvflow', []),
  e('encap none', 'dvflow', ['web', 'dns', 'ping6', 'syn', 'ssh6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('not encap none and source pcap', 'dvflow', ['pcap']),
  e('mirror session 100', 'dvflow', ['pcap']),
  e('mirror session > 100 or mirror index < 7 and source pcap', 'dvflow', []),
  e('mirror index 7 and outer vlan 10', 'dvflow', ['pcap']),
  e('gre key > 0', 'dvflow', []),
  e('inner vlan 0 and fragments >= 2', 'dvflow', ['pcap']),
  // nfdump's tunnel addresses are the outermost tunnel's endpoints; 1.7.1 spells them `tunip`.
  e('tun ip 192.0.2.200', '1.7.8', ['pcap']),
  e('src tun ip 192.0.2.100 and dst tun host 192.0.2.200', '1.7.8', ['pcap']),
  e('dst tun ip 192.0.2.100', '1.7.8', []),
  e('src tun net 192.0.2.0/24', '1.7.8', ['pcap']),
  e('tun net 192.0.2.0 255.255.255.128', '1.7.8', ['pcap']),
  e('tun ip in [198.51.100.1, 192.0.2.200]', '1.7.8', ['pcap']),
  e('not tun net 0.0.0.0/0', '1.7.8', ['web', 'dns', 'ping6', 'syn', 'ssh6', 'ping4', 'gre', 'noaddr', 'esp']),
  e('tun ip ::', '1.7.8', []),
  e('tunip 192.0.2.200', '1.7.1', ['pcap']),
  e('src tunip 192.0.2.200', '1.7.1', []),
  e('src and dst tunip 192.0.2.100', '1.7.1', []),
  e('tenant proto 6 and not tenant port 40001', 'dvflow', ['web']),
  e('tenant port in [ 8080 9090 ]', 'dvflow', ['web']),
];

export interface InvalidFilter {
  filter: string;
  /** 1-based position of the error. */
  position: number;
  /** A fragment of the message. */
  message: string;
  /** Rejected by nfdump 1.7.1 too (checked with nfdump -Z where installed). */
  nfdump171: false;
}

const bad = (filter: string, position: number, message: string): InvalidFilter => ({ filter, position, message, nfdump171: false });

/** Filters both nfdump 1.7.1 and dvflow reject. */
export const invalidFilters: InvalidFilter[] = [
  bad('port', 5, "expected a port number after 'port'"),
  bad('src port', 9, "expected a port number after 'port'"),
  bad('port >', 7, "expected a port number after '>'"),
  bad('net 1.2.3.4/33', 13, 'prefix length 33 is out of range for an IPv4 address'),
  bad('proto nosuch', 7, "unknown protocol 'nosuch'"),
  bad('proto 256', 7, 'protocol 256 is out of range'),
  bad('(port 80', 9, "missing ')' to close the '(' at 1"),
  bad('port 80)', 8, "unexpected ')'"),
  bad('()', 2, "unexpected ')'"),
  bad('port 80 xyz', 9, "expected 'and', 'or' or the end of the filter, found 'xyz'"),
  bad('port 80 proto tcp', 9, "found 'proto'"),
  bad('port 80 and', 12, 'unexpected end of the filter'),
  bad('not', 4, 'unexpected end of the filter'),
  bad('and port 80', 1, "expected a filter term before 'and'"),
  bad('port 65536', 6, 'port number 65536 is out of range (0..65535)'),
  bad('port in [1 65536]', 12, 'out of range'),
  bad('port in []', 10, 'empty list'),
  bad('ip in []', 8, 'empty address list'),
  bad('ip in [10.0/8]', 8, "incomplete IP address '10.0'"),
  bad('port in [80', 12, "missing ']'"),
  bad('ip 1.2.3', 4, "incomplete IP address '1.2.3'"),
  bad('ip 10', 4, "expected an IP address after 'ip'"),
  bad('net 10/8', 5, "expected a network after 'net'"),
  bad('net 172.16/24', 12, 'longer than the 16 bits'),
  bad('net 10.0.0 255.0.0.0', 12, 'a netmask needs a complete IPv4 address'),
  bad('flags sa', 7, "invalid TCP flags 'sa'"),
  bad('flags SS', 7, "invalid TCP flags 'SS'"),
  bad('flags 256', 7, 'out of range (0..255)'),
  bad('mac 00:11:22:33:44', 5, 'invalid MAC address'),
  bad('mac 00:00:00:00:00:00', 5, 'invalid MAC address'),
  bad('mac aa-bb-cc-dd-ee-ff', 5, 'invalid MAC address'),
  bad('src if 3', 1, "'src' cannot qualify 'if'"),
  bad('in vlan 10', 1, "'in' cannot qualify 'vlan'"),
  bad('src packets > 5', 1, "'src' cannot qualify 'packets'"),
  bad('flowdir 3', 9, 'out of range (0..2)'),
  bad('flowdir in', 9, "expected 'ingress', 'egress' or a direction number"),
  bad('ident foo.bar', 7, "invalid ident 'foo.bar'"),
  bad('tos 256', 5, 'out of range (0..255)'),
  bad('as 4294967296', 4, 'out of range (0..4294967295)'),
  bad('port => 80', 6, "unknown comparator '=>'"),
  bad('bytes > 1kb', 9, "expected a byte count after '>'"),
  bad('mask 256', 6, 'out of range (0..255)'),
  bad('engine-type 256', 13, 'out of range (0..255)'),
  bad('sysid 256', 7, 'out of range (0..255)'),
  bad('sysid > 2', 7, "'sysid' takes no comparator"),
  bad('if 4294967296', 4, 'out of range'),
  bad('vlan > 5', 6, "'vlan' takes no comparator"),
  bad('port 80 and or port 22', 13, "expected a filter term before 'or'"),
  bad('portt 80', 1, "unknown filter term 'portt'"),
  bad('10.0.0.1', 1, "did you mean 'ip 10.0.0.1'?"),
  bad('host www.example.invalid', 6, 'dvflow does not resolve host names'),
  bad('router ip www.example.invalid', 11, 'dvflow does not resolve host names'),
  bad('port 80 $', 9, "unexpected character '$'"),
  bad("ident 'unterminated", 7, 'unterminated string'),
  bad('proto tcp and (port 80 or (port 443)', 37, "missing ')' to close the '(' at 15"),
  bad('encap erspan', 7, "unknown encapsulation 'erspan': expected one of vlan, qinq, mpls, eompls, pppoe, gre, pptp, erspan1"),
  bad('encap', 6, "expected an encapsulation after 'encap'"),
  bad('encap 47', 7, "expected an encapsulation after 'encap', found '47'"),
  bad('mirror session 1024', 16, 'ERSPAN session id 1024 is out of range (0..1023)'),
  bad('mirror index 1048576', 14, 'out of range (0..1048575)'),
  bad('mirror sessions 5', 8, "expected 'session' or 'index' after 'mirror'"),
  bad('gre key', 8, "expected a GRE key after 'key'"),
  bad('gre key 4294967296', 9, 'GRE key 4294967296 is out of range'),
  bad('outer vlan 4096', 12, 'VLAN id 4096 is out of range (0..4095)'),
  bad('inner vlan > x', 14, "expected a VLAN id after '>'"),
  bad('fragments', 10, "expected a fragment count after 'fragments'"),
  bad('src encap gre', 1, "'src' cannot qualify 'encap'"),
  bad('tun port 80', 5, "expected 'ip', 'net' or 'proto' after 'tun'"),
  bad('dst tun', 8, "expected 'ip' or 'net' after 'dst tun'"),
  bad('src tun proto 47', 1, "'src' cannot qualify 'tun proto'"),
  bad('tun ip 2001:db8:::1', 8, "invalid IP address '2001:db8:::1'"),
  bad('tunip in [192.0.2.1]', 7, "'tunip' takes one address"),
];

/** nfdump terms dvflow reports as unsupported (valid in nfdump 1.7.1): never a silent match-all. */
export const unsupportedFilters: Array<{ filter: string; position: number; nfdump171: boolean }> = [
  { filter: 'payload content "GET"', position: 1, nfdump171: true },
  { filter: 'src geo CH', position: 5, nfdump171: true },
  { filter: 'mpls label1 100', position: 1, nfdump171: true },
  { filter: 'asa event create', position: 1, nfdump171: true },
  { filter: 'nat event add', position: 1, nfdump171: true },
  { filter: 'src xip 1.2.3.4', position: 5, nfdump171: true },
  { filter: 'port 80 and client latency > 10', position: 13, nfdump171: true },
  { filter: 'tun proto 47', position: 1, nfdump171: true },
  { filter: 'tun proto gre and tun ip 192.0.2.1', position: 1, nfdump171: false },
  { filter: 'src tun geo CH', position: 9, nfdump171: false },
  { filter: 'count > 5', position: 1, nfdump171: true },
  { filter: 'ingress vrf 5', position: 1, nfdump171: true },
  { filter: 'ip tor', position: 4, nfdump171: false },
  { filter: 'port in pblock', position: 9, nfdump171: true },
  { filter: 'observation point id 5', position: 13, nfdump171: true },
  { filter: 'ethertype 0x800', position: 1, nfdump171: false },
  { filter: 'net 10.0.0.0 255.0.255.0', position: 14, nfdump171: true },
  { filter: '@include /etc/filter', position: 1, nfdump171: false },
  { filter: '(port 80) %web', position: 11, nfdump171: true },
  { filter: 'sysid 3', position: 1, nfdump171: true },
];
