// nfdump's convention for ICMP flows: the destination port carries type*256+code, so `-s dstport` and
// `dst port 2048` (echo request) work on ICMP as nfdump users expect. Exporters differ: NetFlow v5 puts
// type/code in the port, v9/IPFIX usually send icmpTypeCode (IE 32/139) and port 0. Make both views agree.
import type { FlowRecord } from './flowRecord.ts';

export function normalizeIcmpPorts(r: FlowRecord): void {
  if (r.proto !== 1 && r.proto !== 58) return;
  if (r.dstPort === 0 && (r.icmpType !== 0 || r.icmpCode !== 0)) {
    r.dstPort = (r.icmpType << 8) | r.icmpCode;
  } else if (r.dstPort !== 0 && r.icmpType === 0 && r.icmpCode === 0) {
    r.icmpType = r.dstPort >>> 8;
    r.icmpCode = r.dstPort & 255;
  }
}
