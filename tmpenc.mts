import { newFlowBlock, type EnrichedFlow } from './collector/src/storage/flowRows.ts';
import { emptyFlowRecord } from './collector/src/flow/flowRecord.ts';
const recs: EnrichedFlow[] = [];
for (let i = 0; i < 100000; i++) recs.push(Object.assign(emptyFlowRecord(), { timeReceived: Date.now(), first: 1.7e12 + i, last: 1.7e12 + i + 5, srcAddr: `172.16.${(i >> 8) & 255}.${i & 255}`, dstAddr: `10.1.${(i >> 3) & 255}.${i & 7}`, srcPort: i & 65535, dstPort: 443, proto: 6, bytes: 1000 + i, packets: 10, source: 'pcap', capture: 'capture-1100000000.pcap', encap: i % 5 ? '' : 'vlan', outerSrc: '', outerDst: '' }) as EnrichedFlow);
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  const b = newFlowBlock(4096);
  for (const r of recs) b.add(r);
  const t1 = performance.now();
  const out = b.encode();
  const t2 = performance.now();
  console.log(`add ${((t1 - t0) * 1000 / recs.length).toFixed(2)} µs/row, encode ${((t2 - t1) * 1000 / recs.length).toFixed(2)} µs/row, ${out.reduce((a, b) => a + b.length, 0)} bytes`);
}
