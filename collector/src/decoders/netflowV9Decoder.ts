// NetFlow v9 (RFC 3954): template flowsets (id 0), options template flowsets (id 1) and data flowsets
// (id >= 256), several per datagram in any order, padding after each. Times are sysUptime-relative
// (FIRST_SWITCHED/LAST_SWITCHED) unless the exporter sends absolute ones (IEs 150-157, e.g. Cisco ASA).
import { DecodeError, type DecodeContext, type DecodeResult } from './decodeResult.ts';
import { decodeDataSet, holdDataSet, releaseArrived, type SetContext } from './dataSetDecoder.ts';
import { allZero, readUint } from './wireValues.ts';
import { MAX_TEMPLATE_FIELDS, compileTemplate, type DomainRef, type Template, type TemplateCache, type TemplateField } from './templateCache.ts';

export const V9_HEADER_LENGTH = 20;

function u16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }

export function decodeNetflowV9(b: Uint8Array, ctx: DecodeContext, res: DecodeResult): void {
  res.version = 9;
  if (b.length < V9_HEADER_LENGTH) {
    res.errors.push(new DecodeError('truncated', `NetFlow v9 header needs ${V9_HEADER_LENGTH} bytes, datagram has ${b.length}`, 0));
    return;
  }
  const sysUptimeMs = readUint(b, 4, 4);
  const exportMs = readUint(b, 8, 4) * 1000;
  const sourceId = readUint(b, 16, 4);
  res.sequence = readUint(b, 12, 4);
  res.domain = sourceId;
  res.recordCountForSequence = 1;

  const cache = ctx.templates;
  // The domain's state, created only when something is stored for it (garbage must not grow the cache).
  const dom: DomainRef = { d: cache.domain(ctx.exporterKey, 9, sourceId) };
  const c: SetContext = {
    version: 9, domain: sourceId, exporterKey: ctx.exporterKey, exporterAddr: ctx.exporterAddr,
    exporterPort: ctx.exporterPort, receivedMs: ctx.receivedMs, sampling: ctx.sampling,
    samplingDefault: ctx.samplingDefault ?? 0, samplingOverride: ctx.samplingOverride ?? 0,
    exportMs, sysUptimeMs, sysInitMs: dom.d?.sysInitMs ?? -1,
  };

  // Templates that sets held earlier were waiting for: those sets are decoded after this datagram's own.
  const arrived: Template[] = [];
  let off = V9_HEADER_LENGTH;
  const len = b.length;
  while (len - off >= 4) {
    const id = u16(b, off);
    const setLen = u16(b, off + 2);
    if (setLen < 4) {
      // Exporters that pad datagrams with zeros (Palo Alto) end here; anything else is a broken flowset.
      if (!allZero(b, off, len)) {
        res.errors.push(new DecodeError('bad-set-length', `flowset ${id} at offset ${off} has length ${setLen} (< 4); rest of the datagram skipped`, off));
      }
      off = len;
      break;
    }
    if (off + setLen > len) {
      res.errors.push(new DecodeError('truncated', `flowset ${id} at offset ${off} declares ${setLen} bytes, only ${len - off} remain`, off));
      off = len;
      break;
    }
    const start = off + 4, end = off + setLen;
    if (id === 0) readTemplates(b, start, end, false, cache, dom, c, res, arrived);
    else if (id === 1) readTemplates(b, start, end, true, cache, dom, c, res, arrived);
    else if (id >= 256) {
      const d = dom.d, t = d?.templates.get(id);
      if (t && d) decodeDataSet(b, start, end, t, d, c, res);
      else holdDataSet(cache, id, b, start, end, c, res);
    } else {
      res.reservedSets++; // ids 2..255 are reserved (RFC 3954 5.2): skipped
    }
    off = end;
  }
  if (off < len && !allZero(b, off, len)) {
    res.errors.push(new DecodeError('truncated', `${len - off} stray bytes after the last flowset at offset ${off}`, off));
  }
  if (dom.d) releaseArrived(cache, dom.d, arrived, c, res);
}

/** Template (id 0) or options template (id 1) flowset. A bad template ends the flowset, not the datagram. */
function readTemplates(
  b: Uint8Array, start: number, end: number, options: boolean, cache: TemplateCache, dom: DomainRef,
  c: SetContext, res: DecodeResult, arrived: Template[],
): void {
  let p = start;
  const headLen = options ? 6 : 4;
  while (end - p >= headLen) {
    const tid = u16(b, p);
    let scopeCount = 0, count: number;
    if (options) {
      const scopeLen = u16(b, p + 2), optLen = u16(b, p + 4);
      if (tid === 0 && scopeLen === 0 && optLen === 0 && allZero(b, p, end)) return; // padding
      if (scopeLen % 4 !== 0 || optLen % 4 !== 0) {
        res.errors.push(new DecodeError('bad-template',
          `options template ${tid} at offset ${p}: scope length ${scopeLen} / option length ${optLen} not multiples of 4`, p));
        return;
      }
      scopeCount = scopeLen / 4;
      count = scopeCount + optLen / 4;
    } else {
      count = u16(b, p + 2);
      if (tid === 0 && count === 0 && allZero(b, p, end)) return; // padding
    }
    if (tid < 256) {
      res.errors.push(new DecodeError('bad-template', `template id ${tid} at offset ${p} is below 256`, p));
      return;
    }
    if (count === 0 || count > MAX_TEMPLATE_FIELDS) {
      res.errors.push(new DecodeError('bad-template', `template ${tid} at offset ${p} has ${count} fields`, p));
      return;
    }
    const fieldsEnd = p + headLen + count * 4;
    if (fieldsEnd > end) {
      res.errors.push(new DecodeError('bad-template',
        `template ${tid} at offset ${p}: ${count} fields need ${count * 4} bytes, flowset has ${end - p - headLen} left`, p));
      return;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0, q = p + headLen; i < count; i++, q += 4) fields[i] = { id: u16(b, q), pen: 0, length: u16(b, q + 2) };
    const t = compileTemplate({ id: tid, options, scopeCount, fields }, 9, c.receivedMs);
    if (typeof t === 'string') {
      res.errors.push(new DecodeError('bad-template', `${t} (offset ${p})`, p));
    } else {
      const d = (dom.d ??= cache.domain(c.exporterKey, 9, c.domain, true));
      const outcome = cache.put(d, t);
      if (outcome === 'refused') {
        res.errors.push(new DecodeError('bad-template', `template ${tid} at offset ${p} refused: too many templates for source id ${d.domain}`, p));
      } else {
        if (outcome !== 'refreshed') res.templatesChanged = true;
        if (d.pendingByTemplate.has(tid)) arrived.push(t);
      }
    }
    p = fieldsEnd;
  }
}
