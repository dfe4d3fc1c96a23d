// Decodes the records of one NetFlow v9 / IPFIX data set with its compiled template: flow records into
// FlowRecords (times resolved, sampling applied), options records into learned sampling rates and
// system init times. Shared by netflowV9Decoder.ts and ipfixDecoder.ts.
import * as flowRecord from '../flow/flowRecord.ts';
import type { FlowRecord } from '../flow/flowRecord.ts';
import { DecodeError, type DecodeResult } from './decodeResult.ts';
import * as ie from './informationElements.ts';
import type { TimeBase } from './informationElements.ts';
import type { SamplingTable } from './samplingTable.ts';
import type { DomainTemplates, Template, TemplateCache } from './templateCache.ts';

/** Everything a data set's records need from the datagram and the caller. */
export interface SetContext extends TimeBase {
  version: number;
  domain: number;
  exporterKey: string;
  exporterAddr: string;
  exporterPort: number;
  receivedMs: number;
  sampling: SamplingTable;
  /** 0 = none configured. */
  samplingDefault: number;
  samplingOverride: number;
}

// Module-local bindings for the record loop: under tsx (how dvflow runs) every call through an imported
// binding goes through a getter, which cost a third of the decode time.
const emptyFlowRecord = flowRecord.emptyFlowRecord, applyField = ie.applyField, finishTimes = ie.finishTimes,
  scratchSamplerId = ie.scratchSamplerId, scratchSamplingRate = ie.scratchSamplingRate, scratchSysInit = ie.scratchSysInit;
const VARIABLE_LENGTH = ie.VARIABLE_LENGTH;

// One scratch for all records: decoding is synchronous and never re-entered.
const scratch = ie.newScratch();

/**
 * Decode the records in b[start, end) (a set's body) with template t, appending to res. Returns the number of
 * records read (flow and options). Bytes after the last whole record are padding. `offsetBase` maps
 * positions in b to positions in the original datagram for error messages.
 */
export function decodeDataSet(
  b: Uint8Array, start: number, end: number, t: Template, d: DomainTemplates, c: SetContext, res: DecodeResult,
  offsetBase = 0,
): number {
  if (t.options) return decodeOptionsRecords(b, start, end, t, d, c, res, offsetBase);
  const out = res.records;
  const s = scratch;
  const sampling = c.sampling.domain(c.exporterKey, c.domain);
  const override = c.samplingOverride;
  let n = 0;
  let lastRate = res.samplingRate;
  let lastSource = res.samplingSource;

  const fixed = t.fixedLength;
  const count = fixed > 0 ? Math.floor((end - start) / fixed) : -1;
  const kinds = t.activeKinds, offs = t.activeOffsets, lens = t.activeLengths, nActive = kinds.length;
  let o = start;
  while (fixed > 0 ? n < count : end - o >= t.minLength) {
    const r = emptyFlowRecord();
    s.has = 0;
    if (fixed > 0) {
      for (let i = 0; i < nActive; i++) applyField(r, s, b, o + offs[i], lens[i], kinds[i]);
      o += fixed;
    } else {
      const p = decodeVariableRecord(b, o, end, t, r);
      if (p < 0) {
        res.errors.push(new DecodeError('bad-record',
          `data set of template ${t.id}: record ${n + 1} at offset ${offsetBase + o} overruns the set (ends at ${offsetBase + end})`,
          offsetBase + o));
        break;
      }
      o = p;
    }
    r.timeReceived = c.receivedMs;
    r.exporter = c.exporterAddr;
    r.exporterPort = c.exporterPort;
    r.version = c.version;
    r.domain = c.domain;
    finishTimes(r, s, c);

    let rate: number;
    if (override >= 1) { rate = override; lastSource = 'override'; } else {
      rate = s.has === 0 ? 0 : scratchSamplingRate(s);
      if (rate === 0 && sampling !== undefined) rate = sampling.rateFor(scratchSamplerId(s));
      if (rate >= 1) lastSource = 'announced';
      else if (c.samplingDefault >= 1) { rate = c.samplingDefault; lastSource = 'default'; } else { rate = 1; lastSource = 'none'; }
    }
    if (rate !== 1) {
      r.samplingRate = rate;
      r.bytes = Math.min(r.bytes * rate, Number.MAX_SAFE_INTEGER);
      r.packets = Math.min(r.packets * rate, Number.MAX_SAFE_INTEGER);
    }
    lastRate = rate;
    out.push(r);
    n++;
  }
  res.samplingRate = lastRate;
  res.samplingSource = lastSource;
  if (n > 0 && t.unknown.length > 0) {
    const u = res.unknownFields;
    for (const k of t.unknown) u.set(k, (u.get(k) ?? 0) + n);
  }
  return n;
}

/**
 * Walk one record of a template with variable-length fields (1-byte length, or 255 then a 2-byte length).
 * Returns the offset after the record, or -1 if it overruns `end`.
 */
function decodeVariableRecord(b: Uint8Array, o: number, end: number, t: Template, r: FlowRecord | null): number {
  const kinds = t.kinds, lens = t.lengths, s = scratch;
  for (let i = 0; i < kinds.length; i++) {
    let len = lens[i];
    if (len === VARIABLE_LENGTH) {
      if (o >= end) return -1;
      len = b[o++];
      if (len === 255) {
        if (o + 2 > end) return -1;
        len = (b[o] << 8) | b[o + 1];
        o += 2;
      }
    }
    if (o + len > end) return -1;
    if (kinds[i] !== 0 && r !== null) applyField(r, s, b, o, len, kinds[i]);
    o += len;
  }
  return o;
}

// Options records go through the same field switch into a throwaway record; only the scratch matters.
const optionsSink = emptyFlowRecord();

function decodeOptionsRecords(
  b: Uint8Array, start: number, end: number, t: Template, d: DomainTemplates, c: SetContext, res: DecodeResult,
  offsetBase: number,
): number {
  const s = scratch;
  let n = 0;
  let o = start;
  const fixed = t.fixedLength;
  while (fixed > 0 ? end - o >= fixed : end - o >= t.minLength) {
    s.has = 0;
    if (fixed > 0) {
      const kinds = t.activeKinds, offs = t.activeOffsets, lens = t.activeLengths;
      for (let i = 0; i < kinds.length; i++) applyField(optionsSink, s, b, o + offs[i], lens[i], kinds[i]);
      o += fixed;
    } else {
      const p = decodeVariableRecord(b, o, end, t, optionsSink);
      if (p < 0) {
        res.errors.push(new DecodeError('bad-record',
          `options data set of template ${t.id}: record ${n + 1} at offset ${offsetBase + o} overruns the set`, offsetBase + o));
        break;
      }
      o = p;
    }
    n++;
    const rate = scratchSamplingRate(s);
    if (rate >= 1) c.sampling.learn(c.exporterKey, c.domain, scratchSamplerId(s), rate);
    const init = scratchSysInit(s);
    if (init >= 0) { d.sysInitMs = init; c.sysInitMs = init; }
  }
  res.optionsRecords += n;
  return n;
}

/**
 * Keep a data set whose template has not arrived (copied: the caller may reuse its buffer). Reports a
 * 'template-missing' error only when the set cannot be held.
 */
export function holdDataSet(
  templates: TemplateCache, templateId: number, b: Uint8Array, start: number, end: number, c: SetContext,
  res: DecodeResult,
): void {
  if (end === start) return; // an empty set: nothing to wait for
  const { held, dropped } = templates.holdPending({
    exporterKey: c.exporterKey, version: c.version, domain: c.domain, templateId,
    data: b.slice(start, end), offset: start, receivedMs: c.receivedMs,
    exporterAddr: c.exporterAddr, exporterPort: c.exporterPort, exportMs: c.exportMs, sysUptimeMs: c.sysUptimeMs,
  });
  res.pendingDropped += dropped;
  if (held) res.pendingHeld++;
  else {
    res.errors.push(new DecodeError('template-missing',
      `data set of unknown template ${templateId} at offset ${start - 4} (${end - start} bytes) cannot be held for later`, start - 4));
  }
}

/**
 * Decode the sets held for templates that arrived in this datagram (options templates first, so held
 * sampling options apply to held flows); their records go after the datagram's own records.
 */
export function releaseArrived(templates: TemplateCache, d: DomainTemplates, arrived: Template[], c: SetContext, res: DecodeResult): void {
  if (arrived.length === 0) return;
  for (const t of arrived) if (t.options) releasePending(templates, d, t, c, res);
  for (const t of arrived) if (!t.options) releasePending(templates, d, t, c, res);
}

function releasePending(templates: TemplateCache, d: DomainTemplates, t: Template, c: SetContext, res: DecodeResult): void {
  // The template in the cache: if several definitions arrived in one datagram, the last one holds.
  const current = d.templates.get(t.id) ?? t;
  const held = templates.takePending(d, t.id);
  for (const p of held) {
    const pc: SetContext = {
      ...c, receivedMs: p.receivedMs, exporterAddr: p.exporterAddr, exporterPort: p.exporterPort,
      exportMs: p.exportMs, sysUptimeMs: p.sysUptimeMs,
    };
    const before = res.records.length;
    decodeDataSet(p.data, 0, p.data.length, current, d, pc, res, p.offset);
    res.pendingDecoded += res.records.length - before;
  }
}
