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
 * Gives every data record of a v9 stream interface numbers (INPUT_SNMP 10, OUTPUT_SNMP 14) spread over
 * `ports` values, in place. softflowd exports 0 for both; a dvSwitch exports dvPort keys, and the enrichment
 * benchmarks must look those up. Returns how many records were changed.
 */
export function spreadInterfaces(datagrams: Buffer[], ports: number): number {
  let k = 0;
  walkV9(datagrams, (d, _index, first, count, layout) => {
    const inIf = layout.fields.get(10), outIf = layout.fields.get(14);
    for (let r = 0; r < count; r++, k++) {
      const at = first + r * layout.size;
      if (inIf?.length === 4) d.writeUInt32BE((k * 7919) % ports, at + inIf.offset);
      if (outIf?.length === 4) d.writeUInt32BE((k * 104_729 + 1) % ports, at + outIf.offset);
    }
  });
  return k;
}
