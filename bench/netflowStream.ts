// A real NetFlow v9 stream for the benchmarks: what softflowd sends for real captures, recorded once and
// replayed many times; and the number of data records in each datagram, to count flows sent.
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const testdata = join(import.meta.dirname, '..', '..', 'shared', 'testdata', 'ids');

/** Datagrams softflowd (-v 9 -A milli) sends for these captures (paths under ../shared/testdata/ids). */
export async function recordSoftflowdStream(pcaps: string[]): Promise<Buffer[]> {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 64 << 20 });
  const datagrams: Buffer[] = [];
  sock.on('message', (m) => datagrams.push(Buffer.from(m)));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  for (const f of pcaps) {
    const dir = mkdtempSync(join(tmpdir(), 'sf-'));
    execFileSync('softflowd', ['-c', join(dir, 'ctl'), '-r', join(testdata, f), '-n', `127.0.0.1:${port}`, '-v', '9', '-A', 'milli'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
  await new Promise((r) => setTimeout(r, 500));
  sock.close();
  return datagrams;
}

/** A v9 template: its record size and where each field type sits in a record. */
interface V9Layout {
  size: number;
  fields: Map<number, { offset: number; length: number }>;
}

/**
 * Walks a v9 stream's flowsets, learning templates along the way: `onData` gets each data flowset's records
 * (offset of the first, count) with the template's layout.
 */
function walkV9(datagrams: Buffer[], onData: (d: Buffer, index: number, first: number, count: number, layout: V9Layout) => void): void {
  const layouts = new Map<number, V9Layout>();
  datagrams.forEach((d, index) => {
    let off = 20;
    while (off + 4 <= d.length) {
      const id = d.readUInt16BE(off), len = d.readUInt16BE(off + 2);
      if (len < 4) break;
      if (id === 0) {
        let p = off + 4;
        while (p + 4 <= off + len) {
          const tid = d.readUInt16BE(p), count = d.readUInt16BE(p + 2);
          const layout: V9Layout = { size: 0, fields: new Map() };
          for (let i = 0; i < count; i++) {
            const type = d.readUInt16BE(p + 4 + i * 4), length = d.readUInt16BE(p + 6 + i * 4);
            layout.fields.set(type, { offset: layout.size, length });
            layout.size += length;
          }
          layouts.set(tid, layout);
          p += 4 + count * 4;
        }
      } else if (id >= 256) {
        const layout = layouts.get(id);
        if (layout && layout.size > 0) onData(d, index, off + 4, Math.floor((len - 4) / layout.size), layout);
      }
      off += len;
    }
  });
}

/** Data records per v9 datagram (flowsets with id >= 256), template sizes learnt along the stream. */
export function v9DataRecords(datagrams: Buffer[]): number[] {
  const counts: number[] = datagrams.map(() => 0);
  walkV9(datagrams, (_d, index, _first, count) => { counts[index]! += count; });
  return counts;
}

/**
 * How the benchmark stream's records use the switch's dvPorts.
 * - dvswitch: as a dvSwitch records them, at the egress port: 45 % leave a VM port for an uplink (in_if a VM port,
 *   out_if its host's uplink), 45 % come in on an uplink for a VM port, 10 % go from one VM port to another of the
 *   same switch. VM ports are spread evenly over the ports above the uplinks; each has one uplink, 1 to uplinks - 1
 *   (dvPort 0 is never used: interface 0 reads as "no interface" in NetFlow, and the enricher skips it).
 * - uniform: in_if and out_if each spread evenly over all ports, so nearly every record has a VM port on both sides
 *   and every (in_if, out_if) pair is new: the most names and the most rollup rows a flow can bring, no switch's shape.
 */
export type PortShape = 'dvswitch' | 'uniform';

/**
 * Gives every data record of a v9 stream interface numbers (INPUT_SNMP 10, OUTPUT_SNMP 14) among `ports` dvPort
 * keys, the first `uplinks` of them uplinks, in place. softflowd exports 0 for both; a dvSwitch exports dvPort keys,
 * and the enrichment benchmarks must look those up. Returns how many records were changed.
 */
export function spreadInterfaces(datagrams: Buffer[], ports: number, uplinks: number, shape: PortShape): number {
  let k = 0;
  const vmPorts = ports - uplinks;
  walkV9(datagrams, (d, _index, first, count, layout) => {
    const inIf = layout.fields.get(10), outIf = layout.fields.get(14);
    for (let r = 0; r < count; r++, k++) {
      const at = first + r * layout.size;
      let i: number, o: number;
      if (shape === 'uniform') {
        i = (k * 7919) % ports;
        o = (k * 104_729 + 1) % ports;
      } else {
        const vm = uplinks + ((k * 7919) % vmPorts);
        const uplink = 1 + (vm % (uplinks - 1));
        const m = k % 20;
        if (m < 9) [i, o] = [vm, uplink];
        else if (m < 18) [i, o] = [uplink, vm];
        else [i, o] = [vm, uplinks + ((k * 104_729 + 1) % vmPorts)];
      }
      if (inIf?.length === 4) d.writeUInt32BE(i, at + inIf.offset);
      if (outIf?.length === 4) d.writeUInt32BE(o, at + outIf.offset);
    }
  });
  return k;
}
