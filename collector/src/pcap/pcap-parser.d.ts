// Types for the untyped `pcap-parser` package (0.2.1, CommonJS, 2012): only what captureReader uses.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';

  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }
  export interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }
  export interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer;
  }
  export interface PcapParser extends EventEmitter {
    /** Internal flag the parser checks before each chunk; set to stop it. */
    errored?: boolean;
  }
  const pcapParser: { parse(input: string | Readable): PcapParser };
  export default pcapParser;
}
