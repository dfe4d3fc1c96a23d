import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { prng } from '../helpers/prng.ts';
import { Enricher, UNMAPPED } from '../../src/inventory/enricher.ts';
import { parsePortgroupFile } from '../../src/inventory/portgroupFile.ts';
import { mergePortgroupInventories } from '../../src/inventory/mergeInventory.ts';
import { emptyPortgroupInventory, emptyVipInventory, ImportError, type PortgroupInventory, type Vip, type VipInventory } from '../../src/inventory/inventoryModel.ts';
import { emptyFlowRecord, type FlowRecord } from '../../src/flow/flowRecord.ts';
import type { EnrichedFlow } from '../../src/storage/flowRows.ts';
import { decodeDatagram } from '../../src/decoders/decodeDatagram.ts';
import { TemplateCache } from '../../src/decoders/templateCache.ts';
import { SamplingTable } from '../../src/decoders/samplingTable.ts';

const TESTDATA = new URL('../../../../shared/testdata/netflow/logstash-codec-netflow/', import.meta.url);

function flow(over: Partial<FlowRecord>): EnrichedFlow {
  return Object.assign(emptyFlowRecord(), { exporter: '10.0.0.21', srcAddr: '10.1.0.5', dstAddr: '10.2.0.5', proto: 6, srcPort: 40000, dstPort: 443, bytes: 100, packets: 1 }, over);
}

const inventoryYaml = `
# two hosts of one dvSwitch
switches:
  - name: dvs-prod
    exporters: [10.0.0.21, 10.0.0.22/7]
    ports:
      - { key: 2, portgroup: dvs-prod-uplinks, kind: uplink }
      - { key: 10, portgroup: web, vm: web-01, vnic: Network adapter 1, mac: 00:50:56:AA:BB:01, ips: [10.1.0.11], kind: vm }
      - { key: 11, portgroup: db, vm: db-01, kind: vm }
portgroups:
  - { name: web, switch: dvs-prod, vlan: 100 }
vlans:
  - { vlan: 200, portgroup: backup }
cidrs:
  - { cidr: 10.1.0.0/24, portgroup: web }
  - { cidr: 10.1.0.128/25, portgroup: web-dmz }
  - { cidr: 2001:db8:1::/48, portgroup: v6-net }
exporters:
  - { address: 10.0.0.21, name: esxi-01 }
`;

test('portgroup YAML: switches, ports, VLANs, CIDRs and exporter names', () => {
  const { inventory, warnings } = parsePortgroupFile(inventoryYaml, 'inv.yaml');
  assert.deepEqual(warnings, []);
  assert.equal(inventory.switches.length, 1);
  const sw = inventory.switches[0]!;
  assert.deepEqual(sw.exporters, ['10.0.0.21', '10.0.0.22/7']);
  assert.deepEqual(sw.ports.map((p) => [p.key, p.portgroup, p.vm ?? '', p.kind ?? '']), [[2, 'dvs-prod-uplinks', '', 'uplink'], [10, 'web', 'web-01', 'vm'], [11, 'db', 'db-01', 'vm']]);
  assert.equal(sw.ports[1]!.mac, '00:50:56:aa:bb:01');
  assert.deepEqual(sw.ports[1]!.ips, ['10.1.0.11']);
  assert.deepEqual(inventory.vlans, [{ vlan: 200, portgroup: 'backup', switch: undefined }]);
  assert.equal(inventory.cidrs.length, 3);
  assert.deepEqual(inventory.exporterNames, [{ address: '10.0.0.21', name: 'esxi-01' }]);
});

test('portgroup JSON is the same document', () => {
  const json = JSON.stringify({ switches: [{ name: 's', exporters: ['192.0.2.1'], ports: [{ key: 5, portgroup: 'pg' }] }] });
  const { inventory } = parsePortgroupFile(json, 'inv.json');
  assert.deepEqual(inventory.switches[0]!.ports, [{ key: 5, portgroup: 'pg' }]);
});

test('portgroup CSV: ports, VLAN and CIDR rows; unknown columns warned', () => {
  const csv = 'switch,exporters,key,portgroup,vm,vnic,mac,kind,vlan,cidr,colour\n' +
    'dvs-a,10.0.0.1 10.0.0.2,12,web,web-01,Network adapter 1,00:50:56:aa:bb:01,vm,,,blue\n' +
    'dvs-a,,13,"db, primary",db-01,,,,,,\n' +
    ',,,web,,,,,100,,\n' +
    ',,,dmz,,,,,,192.0.2.0/24,\n';
  const { inventory, warnings } = parsePortgroupFile(csv, 'inv.csv');
  assert.deepEqual(warnings.map((w) => [w.line, w.message]), [[1, "unknown column 'colour' skipped"]]);
  assert.deepEqual(inventory.switches[0]!.exporters, ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(inventory.switches[0]!.ports.map((p) => [p.key, p.portgroup]), [[12, 'web'], [13, 'db, primary']]);
  assert.deepEqual(inventory.vlans, [{ vlan: 100, portgroup: 'web', switch: undefined }]);
  assert.deepEqual(inventory.cidrs, [{ cidr: '192.0.2.0/24', portgroup: 'dmz' }]);
});

test('malformed inventories: ImportError with the line', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['inv.yaml', 'switches:\n  - name: s\n    ports:\n      - { key: -1, portgroup: a }\n', 4, /dvPort key/],
    ['inv.yaml', 'switches:\n  - name: s\n    exporters: [not-an-ip]\n', 2, /exporter 'not-an-ip'/],
    ['inv.yaml', 'cidrs:\n  - { cidr: 10.0.0.0/33, portgroup: a }\n', 2, /cidr/],
    ['inv.yaml', 'vlans:\n  - { vlan: 5000, portgroup: a }\n', 2, /vlan must be/],
    ['inv.yaml', 'switches: [\n', 2, /./],
    ['inv.yaml', 'switches: 5\n', 1, /must be a list/],
    ['inv.yaml', 'switches:\n  - name: s\n    ports:\n      - { key: 1, portgroup: a, mac: zz }\n', 4, /mac/],
    ['inv.csv', 'switch,key,portgroup\ns,1,a\ns,2\n', 3, /CSV/],
    ['inv.csv', 'switch,key,portgroup\n,1,a\n', 2, /switch/],
    ['inv.csv', 'switch,key,vm\ns,1,a\n', 1, /portgroup/],
  ];
  for (const [file, text, line, re] of cases) {
    assert.throws(() => parsePortgroupFile(text, file), (e: unknown) => {
      assert.ok(e instanceof ImportError, `${text}: ${String(e)}`);
      assert.equal(e.line, line, `${JSON.stringify(text)}: ${e.message}`);
      assert.match(e.message, re);
      assert.match(e.message, new RegExp(`^${file}:${line}: `));
      return true;
    });
  }
  const { warnings } = parsePortgroupFile('switchez: []\n', 'x.yaml');
  assert.deepEqual(warnings.map((w) => [w.line, w.message]), [[1, "unknown key 'switchez' skipped"]]);
});

test('mutated inventories never throw anything but ImportError', () => {
  const rnd = prng(7);
  for (let i = 0; i < 1500; i++) {
    const chars = inventoryYaml.split('');
    const n = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) chars[Math.floor(rnd() * chars.length)] = '{}[]:,-# 9a\n'[Math.floor(rnd() * 12)]!;
    const text = i % 3 === 0 ? chars.join('').slice(0, Math.floor(rnd() * chars.length)) : chars.join('');
    try {
      parsePortgroupFile(text, 'm.yaml');
    } catch (e) {
      assert.ok(e instanceof ImportError, `${String(e)}\n${text}`);
    }
  }
});

function enricher(pg: PortgroupInventory = parsePortgroupFile(inventoryYaml, 'inv.yaml').inventory, vips: VipInventory = emptyVipInventory()) {
  return new Enricher(pg, vips);
}

test('dvPort keys of the exporting switch name portgroups and VMs; exporter names', () => {
  const e = enricher();
  const r = [flow({ inIf: 10, outIf: 2 }), flow({ exporter: '10.0.0.22', domain: 7, inIf: 2, outIf: 11 }), flow({ exporter: '10.0.0.22', domain: 8, inIf: 2, outIf: 11, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2' })];
  e.enrich(r);
  assert.deepEqual([r[0]!.inPortgroup, r[0]!.inVm, r[0]!.outPortgroup, r[0]!.outVm, r[0]!.exporterName], ['web', 'web-01', 'dvs-prod-uplinks', '', 'esxi-01']);
  assert.deepEqual([r[1]!.inPortgroup, r[1]!.outPortgroup, r[1]!.outVm, r[1]!.exporterName], ['dvs-prod-uplinks', 'db', 'db-01', '']);
  // Observation domain 8 of 10.0.0.22 is not the switch (only /7 is): no dvPort mapping, no CIDR: nothing.
  assert.deepEqual([r[2]!.inPortgroup, r[2]!.outPortgroup], ['', '']);
  // The next batch starts clean: an exporter that speaks for no switch gets no port from the batch before.
  const next = [flow({ exporter: '192.0.2.99', inIf: 10, outIf: 2, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2' })];
  e.enrich(next);
  assert.deepEqual([next[0]!.inPortgroup, next[0]!.inVm, next[0]!.outPortgroup], ['', '', '']);
});

test('fallbacks: VLAN, then CIDR (longest prefix, IPv4 and IPv6); pcap flows too', () => {
  const e = enricher();
  const r = [
    flow({ exporter: '', source: 'pcap', srcVlan: 200, srcAddr: '10.9.9.9', dstAddr: '10.1.0.200' }),
    flow({ exporter: '', source: 'pcap', srcAddr: '10.1.0.5', dstAddr: '10.1.0.129' }),
    flow({ exporter: '', source: 'pcap', srcAddr: '2001:db8:1:2::5', dstAddr: '2001:db8:2::1' }),
    flow({ exporter: '', source: 'pcap', srcVlan: 100, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2' }),
  ];
  e.enrich(r);
  assert.deepEqual(r.map((x) => [x.inPortgroup, x.outPortgroup]), [['backup', 'backup'], ['web', 'web-dmz'], ['v6-net', ''], ['web', 'web']]);
});

test('dvPort keys small or huge, dense or sparse, all find their port; keys between them do not', () => {
  // Two switches: one numbered from 0 with gaps (looked up in an array by key), one with keys far apart (a map).
  const inv = parsePortgroupFile(`
switches:
  - name: dense
    exporters: [10.0.0.31]
    ports: [{ key: 0, portgroup: p0 }, { key: 5, portgroup: p5, vm: vm5 }, { key: 900, portgroup: p900 }]
  - name: sparse
    exporters: [10.0.0.32]
    ports: [{ key: 3, portgroup: s3 }, { key: 4000000000, portgroup: s4e9, vm: big }]
`, 'inv.yaml').inventory;
  const e = new Enricher(inv, emptyVipInventory());
  const vds = { vmwIngressAttr: 2, vmwEgressAttr: 2 };
  const pairs: Array<[string, number, number]> = [
    ['10.0.0.31', 5, 900], ['10.0.0.31', 4, 901], ['10.0.0.31', 899, 100000], ['10.0.0.32', 4000000000, 3], ['10.0.0.32', 5, 3999999999],
  ];
  const r = pairs.map(([exporter, inIf, outIf]) => flow({ exporter, inIf, outIf, ...vds }));
  e.enrich(r);
  assert.deepEqual(r.map((x) => [x.inPortgroup, x.inVm, x.outPortgroup]), [
    ['p5', 'vm5', 'p900'], [UNMAPPED, '', UNMAPPED], [UNMAPPED, '', UNMAPPED], ['s4e9', 'big', 's3'], [UNMAPPED, '', UNMAPPED],
  ]);
});

test('unknown dvPorts go to "unmapped" and are listed with their exporter; a reload keeps only the still unmapped', () => {
  const e = enricher();
  const vds = { vmwIngressAttr: 1, vmwEgressAttr: 2 };
  const r = [flow({ inIf: 2, outIf: 77, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2', timeReceived: 1000, ...vds }), flow({ inIf: 2, outIf: 77, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2', timeReceived: 2000, ...vds }),
    flow({ exporter: '198.51.100.9', inIf: 3, outIf: 12, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2', ...vds }),
    flow({ exporter: '198.51.100.10', inIf: 3, outIf: 12, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2' })];
  e.enrich(r);
  assert.equal(r[0]!.outPortgroup, UNMAPPED);
  assert.equal(r[0]!.inPortgroup, 'dvs-prod-uplinks');
  assert.deepEqual([r[2]!.inPortgroup, r[2]!.outPortgroup], [UNMAPPED, UNMAPPED]);
  // Not a VDS record and not a known switch: interface numbers of some router, left alone.
  assert.deepEqual([r[3]!.inPortgroup, r[3]!.outPortgroup], ['', '']);
  const list = e.unmappedPorts();
  assert.deepEqual(list.map((u) => [u.exporter, u.switch, u.port, u.side, u.flows]), [['10.0.0.21', 'dvs-prod', 77, 'out', 2], ['198.51.100.9', '', 3, 'in', 1], ['198.51.100.9', '', 12, 'out', 1]]);
  assert.equal(list[0]!.lastSeen, 2000);
  const fixed = parsePortgroupFile(inventoryYaml.replace('      - { key: 11,', '      - { key: 77, portgroup: app }\n      - { key: 11,'), 'inv.yaml').inventory;
  const next = new Enricher(fixed, emptyVipInventory());
  next.inheritUnmapped(e);
  assert.deepEqual(next.unmappedPorts().map((u) => u.port), [3, 12]);
});

test('VDS duplicates: the uplink → VM sighting of a VM-to-VM flow is marked, traffic from outside is not', () => {
  const e = enricher();
  const sender = flow({ exporter: '10.0.0.21', inIf: 10, outIf: 2, srcAddr: '10.1.0.11', dstAddr: '10.1.0.99', vmwIngressAttr: 2, vmwEgressAttr: 1 });
  const receiver = flow({ exporter: '10.0.0.22', domain: 7, inIf: 2, outIf: 11, srcAddr: '10.1.0.11', dstAddr: '10.1.0.99', vmwIngressAttr: 1, vmwEgressAttr: 2 });
  const outside = flow({ exporter: '10.0.0.22', domain: 7, inIf: 2, outIf: 11, srcAddr: '203.0.113.5', dstAddr: '10.1.0.99', vmwIngressAttr: 1, vmwEgressAttr: 2 });
  e.enrich([sender, receiver, outside]);
  assert.deepEqual([sender.duplicate, receiver.duplicate, outside.duplicate], [0, 1, 0]);
});

const vip = (over: Partial<Vip>): Vip => ({
  name: 'web', address: '10.0.0.10', port: 443, proto: 'tcp', mode: 'tcp', lbKind: 'proxy', lbAddresses: ['10.0.0.2'],
  pools: [{ name: 'pool', balance: 'roundrobin', servers: [{ name: 'web1', address: '10.0.1.11', port: 8443 }, { name: 'web2', address: '10.0.1.12', port: 8443 }] }],
  ...over,
});

test('VIP legs for a proxy: client→VIP, VIP→client, LB→server, server→LB with the real server', () => {
  const e = enricher(emptyPortgroupInventory(), { vips: [vip({})] });
  const r = [
    flow({ srcAddr: '198.51.100.7', srcPort: 50000, dstAddr: '10.0.0.10', dstPort: 443 }),
    flow({ srcAddr: '10.0.0.10', srcPort: 443, dstAddr: '198.51.100.7', dstPort: 50000 }),
    flow({ srcAddr: '10.0.0.2', srcPort: 40001, dstAddr: '10.0.1.12', dstPort: 8443 }),
    flow({ srcAddr: '10.0.1.12', srcPort: 8443, dstAddr: '10.0.0.2', dstPort: 40001 }),
    flow({ srcAddr: '198.51.100.7', srcPort: 50000, dstAddr: '10.0.0.10', dstPort: 80 }),
    flow({ srcAddr: '198.51.100.7', srcPort: 50000, dstAddr: '10.0.0.10', dstPort: 443, proto: 17 }),
  ];
  e.enrich(r);
  assert.deepEqual(r.map((x) => [x.vip ?? '', x.vipLeg ?? '', x.backend ?? '', x.vipAddr ?? '', x.vipPort ?? 0]), [
    ['web', 'client-vip', '', '10.0.0.10', 443], ['web', 'vip-client', '', '10.0.0.10', 443],
    ['web', 'lb-server', 'web2', '10.0.0.10', 443], ['web', 'server-lb', 'web2', '10.0.0.10', 443],
    ['', '', '', '', 0], ['', '', '', '', 0],
  ]);
});

test('VIP legs for DR and TUN: replies from the VIP are direct server return; LVS tunnels reach the server', () => {
  const pg = parsePortgroupFile('switches:\n  - name: s\n    exporters: [10.0.0.21]\n    ports:\n      - { key: 30, portgroup: web, vm: realweb2, kind: vm }\n', 'i.yaml').inventory;
  const dr = vip({ name: 'dr-web', address: '10.0.0.20', port: 80, lbKind: 'dr', lbAddresses: [], pools: [{ name: 'p', servers: [{ name: 'realweb1', address: '10.0.1.21', port: null }, { name: 'realweb2', address: '10.0.1.22', port: null }] }] });
  const tun = vip({ name: 'tun-web', address: '10.0.0.30', port: null, proto: 'any', lbKind: 'tun', lbAddresses: [], pools: [{ name: 'p', servers: [{ name: 't1', address: '10.0.2.1', port: null }] }] });
  const e = enricher(pg, { vips: [dr, tun] });
  const r = [
    flow({ srcAddr: '198.51.100.7', srcPort: 50000, dstAddr: '10.0.0.20', dstPort: 80 }),
    flow({ srcAddr: '10.0.0.20', srcPort: 80, dstAddr: '198.51.100.7', dstPort: 50000, inIf: 30 }),
    flow({ srcAddr: '10.0.0.1', dstAddr: '10.0.2.1', proto: 4, srcPort: 0, dstPort: 0 }),
    flow({ srcAddr: '198.51.100.7', srcPort: 1, dstAddr: '10.0.0.30', dstPort: 9999, proto: 17 }),
  ];
  e.enrich(r);
  assert.deepEqual(r.map((x) => [x.vip ?? '', x.vipLeg ?? '', x.backend ?? '']), [
    ['dr-web', 'client-vip', ''], ['dr-web', 'server-client', 'realweb2'], ['tun-web', 'lb-server', 't1'], ['tun-web', 'client-vip', ''],
  ]);
});

test('a wildcard bind matches no address (its servers still do); IPv6 VIPs match the records\' text form', () => {
  const e = enricher(emptyPortgroupInventory(), { vips: [vip({ address: '0.0.0.0', lbAddresses: ['10.0.0.3'] }), vip({ name: 'v6', address: '2001:DB8:0:0::10', port: 443, pools: [] })] });
  const r = [flow({ dstAddr: '10.0.0.3', dstPort: 443 }), flow({ dstAddr: '0.0.0.0', dstPort: 443 }), flow({ srcAddr: '2001:db8::1', dstAddr: '2001:db8::10', dstPort: 443 }),
    flow({ srcAddr: '10.0.0.3', dstAddr: '10.0.1.11', dstPort: 8443 })];
  e.enrich(r);
  assert.deepEqual(r.map((x) => [x.vip ?? '', x.vipLeg ?? '', x.vipAddr ?? '']), [['', '', ''], ['', '', ''], ['v6', 'client-vip', '2001:db8::10'], ['web', 'lb-server', '']]);
});

test('merge precedence: the first source wins per dvPort key, exporters are united', () => {
  const a = parsePortgroupFile('switches:\n  - name: s\n    exporters: [10.0.0.1]\n    ports:\n      - { key: 1, portgroup: fixed-by-admin }\n', 'a.yaml').inventory;
  const b = parsePortgroupFile('switches:\n  - name: s\n    exporters: [10.0.0.2]\n    ports:\n      - { key: 1, portgroup: from-vcenter }\n      - { key: 2, portgroup: other }\n', 'b.yaml').inventory;
  const m = mergePortgroupInventories([a, b]);
  assert.deepEqual(m.switches[0]!.exporters, ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(m.switches[0]!.ports.map((p) => [p.key, p.portgroup]), [[1, 'fixed-by-admin'], [2, 'other']]);
});

test('the VMware VDS capture (logstash-codec-netflow): its dvPorts land in the mapped portgroups', () => {
  const ctx = { exporterKey: '192.0.2.50:4739', exporterAddr: '192.0.2.50', exporterPort: 4739, receivedMs: Date.now(), templates: new TemplateCache(), sampling: new SamplingTable() };
  const records: EnrichedFlow[] = [];
  for (const f of ['ipfix_test_vmware_vds_tpl.dat', 'ipfix_test_vmware_vds_data264.dat', 'ipfix_test_vmware_vds_data266.dat', 'ipfix_test_vmware_vds_data266_267.dat']) {
    records.push(...decodeDatagram(readFileSync(new URL(f, TESTDATA)), ctx).records);
  }
  assert.equal(records.length, 5);
  const pg = parsePortgroupFile(`switches:
  - name: DSwitch
    exporters: [192.0.2.50]
    ports:
      - { key: 2, portgroup: DSwitch-DVUplinks, kind: uplink }
      - { key: 3, portgroup: DSwitch-DVUplinks, kind: uplink }
      - { key: 10, portgroup: Servers, vm: win-01, kind: vm }
      - { key: 11, portgroup: Management, vm: win-02, kind: vm }
`, 'vds.yaml').inventory;
  new Enricher(pg, emptyVipInventory()).enrich(records);
  // Every record: uplink in (attribute 1), VM port out (attribute 2), flowDirection egress.
  assert.deepEqual(records.map((r) => [r.inIf, r.inPortgroup, r.outIf, r.outPortgroup, r.outVm, r.vmwIngressAttr, r.vmwEgressAttr, r.direction]), [
    [3, 'DSwitch-DVUplinks', 11, 'Management', 'win-02', 1, 2, 1],
    [2, 'DSwitch-DVUplinks', 10, 'Servers', 'win-01', 1, 2, 1],
    [3, 'DSwitch-DVUplinks', 11, 'Management', 'win-02', 1, 2, 1],
    [3, 'DSwitch-DVUplinks', 11, 'Management', 'win-02', 1, 2, 1],
    [3, 'DSwitch-DVUplinks', 11, 'Management', 'win-02', 1, 2, 1],
  ]);
});
