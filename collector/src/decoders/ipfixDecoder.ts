// IPFIX (RFC 7011): template sets (2), options template sets (3), data sets (>= 256); template withdrawal
// (field count 0, or template id = set id for "all"); enterprise elements (bit 15 + 4-byte PEN);
// variable-length fields; padding. The sequence number counts data records, so we count them too.
import { DecodeError, type DecodeContext, type DecodeResult } from './decodeResult.ts';
import { decodeDataSet, holdDataSet, releaseArrived, type SetContext } from './dataSetDecoder.ts';
import { allZero, readUint } from './wireValues.ts';
import { MAX_TEMPLATE_FIELDS, compileTemplate, type DomainRef, type Template, type TemplateCache, type TemplateField } from './templateCache.ts';

export const IPFIX_HEADER_LENGTH = 16;
const SET_TEMPLATE = 2, SET_OPTIONS_TEMPLATE = 3;

function u16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }

export function decodeIpfix(b: Uint8Array, ctx: DecodeContext, res: DecodeResult): void {
  res.version = 10;
  if (b.length < IPFIX_HEADER_LENGTH) {
    res.errors.push(new DecodeError('truncated', `IPFIX header needs ${IPFIX_HEADER_LENGTH} bytes, datagram has ${b.length}`, 0));
    return;
  }
  // One message per datagram as exporters send them; messages back to back (as files and TCP streams carry
  // them) are decoded in turn. The header fields of the result are the first message's.
  let at = 0;
  for (;;) {
    const next = decodeMessage(b, at, ctx, res, at === 0);
    if (next >= b.length) return;
    if (b.length - next >= IPFIX_HEADER_LENGTH && u16(b, next) === 10 && u16(b, next + 2) >= IPFIX_HEADER_LENGTH) {
      at = next;
      continue;
    }
    if (!allZero(b, next, b.length)) {
      res.errors.push(new DecodeError('truncated', `${b.length - next} stray bytes after the IPFIX message at offset ${next}`, next));
    }
    return;
  }
}

/** Decode the message whose header is at `at`; returns the offset where it ends. */
function decodeMessage(b: Uint8Array, at: number, ctx: DecodeContext, res: DecodeResult, first: boolean): number {
  const msgLen = u16(b, at + 2);
  const exportMs = readUint(b, at + 4, 4) * 1000;
  const sequence = readUint(b, at + 8, 4);
  const domain = readUint(b, at + 12, 4);
  if (first) { res.sequence = sequence; res.domain = domain; }

  let len = b.length;
  if (at + msgLen > b.length) {
    res.errors.push(new DecodeError('truncated', `IPFIX message at offset ${at} declares ${msgLen} bytes, datagram has ${b.length - at}`, at + 2));
  } else if (msgLen < IPFIX_HEADER_LENGTH) {
    res.errors.push(new DecodeError('bad-length', `IPFIX message length ${msgLen} at offset ${at} is shorter than its header; using the datagram length`, at + 2));
  } else len = at + msgLen;

  const cache = ctx.templates;
  // The domain's state, created only when something is stored for it (garbage must not grow the cache).
  const dom: DomainRef = { d: cache.domain(ctx.exporterKey, 10, domain) };
  const c: SetContext = {
    version: 10, domain, exporterKey: ctx.exporterKey, exporterAddr: ctx.exporterAddr,
    exporterPort: ctx.exporterPort, receivedMs: ctx.receivedMs, sampling: ctx.sampling,
    samplingDefault: ctx.samplingDefault ?? 0, samplingOverride: ctx.samplingOverride ?? 0,
    exportMs, sysUptimeMs: -1, sysInitMs: dom.d?.sysInitMs ?? -1,
  };

  // Templates that sets held earlier were waiting for: those sets are decoded after this message's own.
  const arrived: Template[] = [];
  let dataRecords = 0;
  let off = at + IPFIX_HEADER_LENGTH;
  while (len - off >= 4) {
    const id = u16(b, off);
    const setLen = u16(b, off + 2);
    if (setLen < 4) {
      if (!allZero(b, off, len)) {
        res.errors.push(new DecodeError('bad-set-length', `set ${id} at offset ${off} has length ${setLen} (< 4); rest of the message skipped`, off));
      }
      off = len;
      break;
    }
    if (off + setLen > len) {
      res.errors.push(new DecodeError('truncated', `set ${id} at offset ${off} declares ${setLen} bytes, only ${len - off} remain`, off));
      off = len;
      break;
    }
    const start = off + 4, end = off + setLen;
    if (id === SET_TEMPLATE || id === SET_OPTIONS_TEMPLATE) readTemplates(b, start, end, id, cache, dom, c, res, arrived);
    else if (id >= 256) {
      const d = dom.d, t = d?.templates.get(id);
      if (t && d) dataRecords += decodeDataSet(b, start, end, t, d, c, res);
      else holdDataSet(cache, id, b, start, end, c, res);
    } else {
      res.reservedSets++; // ids 4..255 are reserved (RFC 7011 3.3.2): skipped, as collectors must
    }
    off = end;
  }
  if (off < len && !allZero(b, off, len)) {
    res.errors.push(new DecodeError('truncated', `${len - off} stray bytes after the last set at offset ${off}`, off));
  }
  if (domain === res.domain) res.recordCountForSequence += dataRecords;
  if (dom.d) releaseArrived(cache, dom.d, arrived, c, res);
  return len;
}

/** Template or options template set. A bad template ends the set, not the message. */
function readTemplates(
  b: Uint8Array, start: number, end: number, setId: number, cache: TemplateCache, dom: DomainRef,
  c: SetContext, res: DecodeResult, arrived: Template[],
): void {
  const options = setId === SET_OPTIONS_TEMPLATE;
  let p = start;
  while (end - p >= 4) {
    const tid = u16(b, p);
    const count = u16(b, p + 2);
    if (count === 0) {
      if (tid === 0 && allZero(b, p, end)) return; // padding
      if (tid === setId) {
        if (dom.d && cache.withdrawAll(dom.d, options) > 0) res.templatesChanged = true;
      } else if (tid >= 256) {
        if (dom.d && cache.withdraw(dom.d, tid)) res.templatesChanged = true;
      } else {
        res.errors.push(new DecodeError('bad-template', `template withdrawal at offset ${p} names template ${tid}`, p));
        return;
      }
      p += 4;
      continue;
    }
    if (tid < 256) {
      res.errors.push(new DecodeError('bad-template', `template id ${tid} at offset ${p} is below 256`, p));
      return;
    }
    if (count > MAX_TEMPLATE_FIELDS) {
      res.errors.push(new DecodeError('bad-template', `template ${tid} at offset ${p} has ${count} fields`, p));
      return;
    }
    let q = p + 4;
    let scopeCount = 0;
    if (options) {
      if (end - q < 2) {
        res.errors.push(new DecodeError('bad-template', `options template ${tid} at offset ${p} ends before its scope field count`, p));
        return;
      }
      scopeCount = u16(b, q);
      q += 2;
      if (scopeCount > count) {
        res.errors.push(new DecodeError('bad-template', `options template ${tid} at offset ${p} has ${scopeCount} scope fields of ${count}`, p));
        return;
      }
    }
    if (q + count * 4 > end) {
      res.errors.push(new DecodeError('bad-template',
        `template ${tid} at offset ${p}: ${count} fields need at least ${count * 4} bytes, set has ${end - q} left`, p));
      return;
    }
    const fields: TemplateField[] = new Array(count);
    let ok = true;
    for (let i = 0; i < count; i++) {
      if (q + 4 > end) { ok = false; break; }
      let id = u16(b, q);
      const length = u16(b, q + 2);
      q += 4;
      let pen = 0;
      if (id & 0x8000) {
        if (q + 4 > end) { ok = false; break; }
        pen = readUint(b, q, 4);
        q += 4;
        id &= 0x7fff;
      }
      fields[i] = { id, pen, length };
    }
    if (!ok) {
      res.errors.push(new DecodeError('bad-template', `template ${tid} at offset ${p}: field list runs past the set end (${end})`, p));
      return;
    }
    const t = compileTemplate({ id: tid, options, scopeCount, fields }, 10, c.receivedMs);
    if (typeof t === 'string') {
      res.errors.push(new DecodeError('bad-template', `${t} (offset ${p})`, p));
    } else {
      const d = (dom.d ??= cache.domain(c.exporterKey, 10, c.domain, true));
      const outcome = cache.put(d, t);
      if (outcome === 'refused') {
        res.errors.push(new DecodeError('bad-template', `template ${tid} at offset ${p} refused: too many templates for domain ${d.domain}`, p));
      } else {
        if (outcome !== 'refreshed') res.templatesChanged = true;
        if (d.pendingByTemplate.has(tid)) arrived.push(t);
      }
    }
    p = q;
  }
}
