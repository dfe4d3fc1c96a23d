// The entry point the collector calls for each UDP datagram: dispatch on the version field to the v5/v7,
// v9 or IPFIX decoder. Never throws; every problem is a DecodeError in the result.
import { DecodeError, emptyDecodeResult, type DecodeContext, type DecodeResult } from './decodeResult.ts';
import { decodeIpfix } from './ipfixDecoder.ts';
import { decodeNetflowV5 } from './netflowV5Decoder.ts';
import { decodeNetflowV9 } from './netflowV9Decoder.ts';

export type { DecodeContext, DecodeResult } from './decodeResult.ts';

export function decodeDatagram(buf: Uint8Array, ctx: DecodeContext): DecodeResult {
  const res = emptyDecodeResult();
  if (buf.length < 2) {
    res.errors.push(new DecodeError('truncated', `datagram of ${buf.length} bytes has no version field`, 0));
    return res;
  }
  const version = (buf[0] << 8) | buf[1];
  try {
    switch (version) {
      case 5: case 7: decodeNetflowV5(buf, ctx, res); break;
      case 9: decodeNetflowV9(buf, ctx, res); break;
      case 10: decodeIpfix(buf, ctx, res); break;
      default:
        res.version = version;
        res.errors.push(new DecodeError('bad-version', `version ${version} is not NetFlow v5/v7/v9 or IPFIX (10)`, 0));
    }
  } catch (e) {
    // A decoder bug must not take the collector down; the good records decoded so far are kept.
    res.errors.push(new DecodeError('bad-record', `internal decoder error: ${(e as Error)?.message ?? String(e)}`, -1));
  }
  return res;
}
