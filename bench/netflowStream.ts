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

/** Data records per v9 datagram (flowsets with id >= 256), template sizes learnt along the stream. */
export function v9DataRecords(datagrams: Buffer[]): number[] {
  const sizes = new Map<number, number>();
  return datagrams.map((d) => {
    let off = 20, n = 0;
    while (off + 4 <= d.length) {
      const id = d.readUInt16BE(off), len = d.readUInt16BE(off + 2);
      if (len < 4) break;
      if (id === 0) {
        let p = off + 4;
        while (p + 4 <= off + len) {
          const tid = d.readUInt16BE(p), count = d.readUInt16BE(p + 2);
          let size = 0;
          for (let i = 0; i < count; i++) size += d.readUInt16BE(p + 4 + i * 4 + 2);
          sizes.set(tid, size);
          p += 4 + count * 4;
        }
      } else if (id >= 256) {
        const size = sizes.get(id);
        if (size) n += Math.floor((len - 4) / size);
      }
      off += len;
    }
    return n;
  });
}

/**
 * Gives every data record of a v9 stream interface numbers (INPUT_SNMP 10, OUTPUT_SNMP 14) spread over
 * `ports` values, in place. softflowd exports 0 for both; a dvSwitch exports dvPort keys, and the enrichment
 * benchmarks must look those up. Returns how many records were changed.
 */
export function spreadInterfaces(datagrams: Buffer[], ports: number): number {
  const layouts = new Map<number, { size: number; inOff: number; outOff: number; inLen: number; outLen: number }>();
  let k = 0;
  for (const d of datagrams) {
    let off = 20;
    while (off + 4 <= d.length) {
      const id = d.readUInt16BE(off), len = d.readUInt16BE(off + 2);
      if (len < 4) break;
      if (id === 0) {
        let p = off + 4;
        while (p + 4 <= off + len) {
          const tid = d.readUInt16BE(p), count = d.readUInt16BE(p + 2);
          const l = { size: 0, inOff: -1, outOff: -1, inLen: 0, outLen: 0 };
          for (let i = 0; i < count; i++) {
            const type = d.readUInt16BE(p + 4 + i * 4), flen = d.readUInt16BE(p + 6 + i * 4);
            if (type === 10) { l.inOff = l.size; l.inLen = flen; }
            if (type === 14) { l.outOff = l.size; l.outLen = flen; }
            l.size += flen;
          }
          layouts.set(tid, l);
          p += 4 + count * 4;
        }
      } else if (id >= 256) {
        const l = layouts.get(id);
        if (l && l.size > 0) {
          for (let r = off + 4; r + l.size <= off + len; r += l.size, k++) {
            if (l.inLen === 4) d.writeUInt32BE((k * 7919) % ports, r + l.inOff);
            if (l.outLen === 4) d.writeUInt32BE((k * 104_729 + 1) % ports, r + l.outOff);
          }
        }
      }
      off += len;
    }
  }
  return k;
}
