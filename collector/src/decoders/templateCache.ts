// Templates of NetFlow v9 / IPFIX exporters, compiled once when they arrive, keyed by (exporter key, version,
// observation domain / source id, template id). The exporter key is whatever the caller uses to tell
// exporters apart ("addr" or "addr:port"). Also holds data sets that arrived before their template (bounded),
// the systemInitTime learned per domain, and persists as JSON. Pure state: time is always passed in.
import { K_SKIP, VARIABLE_LENGTH, planFields } from './informationElements.ts';

export interface TemplateField {
  /** Information element id (enterprise bit cleared). */
  id: number;
  /** Private enterprise number, 0 for IANA elements (and every v9 field). */
  pen: number;
  /** Field length in bytes; 65535 = variable length. */
  length: number;
}

export interface TemplateDef {
  id: number;
  /** Options template (v9 flowset 1, IPFIX set 3). */
  options: boolean;
  /** Scope fields at the start of `fields` (options templates). */
  scopeCount: number;
  fields: TemplateField[];
}

/** A template ready for the record loop. */
export interface Template extends TemplateDef {
  /** Kind per field (informationElements.ts), K_SKIP for ignored ones. */
  readonly kinds: Uint8Array;
  readonly lengths: Uint16Array;
  /** Record length when no field is variable-length, else -1. */
  readonly fixedLength: number;
  /** Shortest possible record (a variable-length field counts its 1-byte length). Always > 0. */
  readonly minLength: number;
  /** Fixed-length templates: only the fields that do something, with their offsets in the record. */
  readonly activeKinds: Uint8Array;
  readonly activeOffsets: Uint16Array;
  readonly activeLengths: Uint16Array;
  /** "pen:ie" of fields dvflow skips because it does not map them. */
  readonly unknown: readonly string[];
  /** When the exporter last sent it (ms). */
  receivedMs: number;
}

/** More fields than this is not a template any exporter sends: reject rather than allocate. */
export const MAX_TEMPLATE_FIELDS = 1024;
/** A record must fit in one set of one datagram (65535 - IPFIX header 16 - set header 4). */
export const MAX_RECORD_LENGTH = 65515;

/** Compile a template for `version` (9 or 10), or say why it cannot be used. */
export function compileTemplate(def: TemplateDef, version: number, receivedMs: number): Template | string {
  const n = def.fields.length;
  if (def.id < 256 || def.id > 65535) return `template id ${def.id} is below 256`;
  if (n === 0) return `template ${def.id} has no fields`;
  if (n > MAX_TEMPLATE_FIELDS) return `template ${def.id} has ${n} fields (more than ${MAX_TEMPLATE_FIELDS})`;
  if (def.scopeCount < 0 || def.scopeCount > n) return `template ${def.id} has ${def.scopeCount} scope fields of ${n}`;
  const plan = planFields(def.fields, def.options, version === 9 && def.options ? def.scopeCount : 0);
  const kinds = new Uint8Array(n);
  const lengths = new Uint16Array(n);
  let fixed = 0, variable = false, min = 0, active = 0;
  for (let i = 0; i < n; i++) {
    const f = def.fields[i];
    if (!Number.isInteger(f.length) || f.length < 0 || f.length > 65535) return `template ${def.id} field ${i + 1} has length ${f.length}`;
    kinds[i] = plan.kinds[i];
    lengths[i] = f.length;
    if (f.length === VARIABLE_LENGTH) { variable = true; min += 1; } else { fixed += f.length; min += f.length; }
    if (plan.kinds[i] !== K_SKIP) active++;
  }
  if (min === 0) return `template ${def.id} describes zero-length records`;
  if (min > MAX_RECORD_LENGTH) return `template ${def.id} records are ${min} bytes, longer than any set`;
  const activeKinds = new Uint8Array(variable ? 0 : active);
  const activeOffsets = new Uint16Array(variable ? 0 : active);
  const activeLengths = new Uint16Array(variable ? 0 : active);
  if (!variable) {
    let off = 0, k = 0;
    for (let i = 0; i < n; i++) {
      if (kinds[i] !== K_SKIP) { activeKinds[k] = kinds[i]; activeOffsets[k] = off; activeLengths[k] = lengths[i]; k++; }
      off += lengths[i];
    }
  }
  return {
    id: def.id, options: def.options, scopeCount: def.scopeCount,
    fields: def.fields.map((f) => ({ id: f.id, pen: f.pen, length: f.length })),
    kinds, lengths, fixedLength: variable ? -1 : fixed, minLength: min,
    activeKinds, activeOffsets, activeLengths, unknown: plan.unknown, receivedMs,
  };
}

function sameDefinition(a: TemplateDef, b: TemplateDef): boolean {
  if (a.options !== b.options || a.scopeCount !== b.scopeCount || a.fields.length !== b.fields.length) return false;
  for (let i = 0; i < a.fields.length; i++) {
    const x = a.fields[i], y = b.fields[i];
    if (x.id !== y.id || x.pen !== y.pen || x.length !== y.length) return false;
  }
  return true;
}

/** A data set held until its template arrives, with what is needed to decode it then. */
export interface PendingSet {
  exporterKey: string;
  version: number;
  domain: number;
  templateId: number;
  /** Copy of the set's records (set header excluded). */
  data: Uint8Array;
  /** Offset of the records in the original datagram, for error messages. */
  offset: number;
  receivedMs: number;
  exporterAddr: string;
  exporterPort: number;
  exportMs: number;
  /** v9 header sysUptime (ms), -1 for IPFIX. */
  sysUptimeMs: number;
}

/** Templates (and held sets) of one (exporter key, version, domain). */
export class DomainTemplates {
  readonly templates = new Map<number, Template>();
  /** systemInitTimeMilliseconds from options data, -1 if never seen (IPFIX sysUpTime-relative times need it). */
  sysInitMs = -1;
  /** Held sets per template id, so a template arrival only scans the buffer when something waits for it. */
  readonly pendingByTemplate = new Map<number, number>();
  constructor(readonly exporterKey: string, readonly version: number, readonly domain: number) {}
}

/** A decoder's handle on a domain it may not have created yet. */
export interface DomainRef { d: DomainTemplates | undefined }

export interface TemplateCacheOptions {
  /** Held data sets at most (all exporters together). Default 1024. */
  maxPendingSets?: number;
  /** Bytes of held data sets at most. Default 4 MiB. */
  maxPendingBytes?: number;
  /** Held sets older than this are dropped when more arrive or on expire(). Default 5 minutes. */
  pendingMaxAgeMs?: number;
  /** Templates per domain at most; more are refused. Default 4096. */
  maxTemplatesPerDomain?: number;
}

export interface TemplateCacheStats {
  templates: number;
  domains: number;
  pendingSets: number;
  pendingBytes: number;
  /** Held sets dropped because the buffer was full / because they were too old (totals). */
  pendingDropped: number;
  pendingExpired: number;
}

export interface TemplateCacheJSON {
  format: 'dvflow-templates/1';
  domains: Array<{
    exporterKey: string; version: number; domain: number; sysInitMs: number;
    templates: Array<{ id: number; options: boolean; scopeCount: number; receivedMs: number; fields: Array<[id: number, length: number, pen: number]> }>;
  }>;
}

/** What `put` did. */
export type PutOutcome = 'added' | 'replaced' | 'refreshed' | 'refused';

export class TemplateCache {
  private readonly byExporter = new Map<string, Map<number, DomainTemplates>>();
  private pending: PendingSet[] = [];
  private pendingBytes = 0;
  private droppedTotal = 0;
  private expiredTotal = 0;
  readonly maxPendingSets: number;
  readonly maxPendingBytes: number;
  readonly pendingMaxAgeMs: number;
  readonly maxTemplatesPerDomain: number;

  constructor(opts: TemplateCacheOptions = {}) {
    this.maxPendingSets = opts.maxPendingSets ?? 1024;
    this.maxPendingBytes = opts.maxPendingBytes ?? 4 * 1024 * 1024;
    this.pendingMaxAgeMs = opts.pendingMaxAgeMs ?? 5 * 60_000;
    this.maxTemplatesPerDomain = opts.maxTemplatesPerDomain ?? 4096;
  }

  /** The domain's state; created when `create` (decoders create it on first sight of a domain). */
  domain(exporterKey: string, version: number, domain: number, create: true): DomainTemplates;
  domain(exporterKey: string, version: number, domain: number, create?: boolean): DomainTemplates | undefined;
  domain(exporterKey: string, version: number, domain: number, create = false): DomainTemplates | undefined {
    let domains = this.byExporter.get(exporterKey);
    // version (5..10) and domain (u32) packed in one safe integer: one Map lookup per datagram.
    const k = version * 0x100000000 + domain;
    let d = domains?.get(k);
    if (d || !create) return d;
    if (!domains) { domains = new Map(); this.byExporter.set(exporterKey, domains); }
    d = new DomainTemplates(exporterKey, version, domain);
    domains.set(k, d);
    return d;
  }

  get(exporterKey: string, version: number, domain: number, templateId: number): Template | undefined {
    return this.domain(exporterKey, version, domain)?.templates.get(templateId);
  }

  /** Store a compiled template. A resent identical template only refreshes its time. */
  put(d: DomainTemplates, t: Template): PutOutcome {
    const old = d.templates.get(t.id);
    if (old && sameDefinition(old, t)) { old.receivedMs = t.receivedMs; return 'refreshed'; }
    if (!old && d.templates.size >= this.maxTemplatesPerDomain) return 'refused';
    d.templates.set(t.id, t);
    return old ? 'replaced' : 'added';
  }

  /** Compile and store (for callers outside the decoders, e.g. tests). */
  define(exporterKey: string, version: number, domain: number, def: TemplateDef, receivedMs: number): Template | string {
    const t = compileTemplate(def, version, receivedMs);
    if (typeof t === 'string') return t;
    if (this.put(this.domain(exporterKey, version, domain, true), t) === 'refused') return `too many templates in domain ${domain}`;
    return t;
  }

  /** IPFIX template withdrawal. Returns whether a template was removed. */
  withdraw(d: DomainTemplates, templateId: number): boolean {
    const removed = d.templates.delete(templateId);
    this.pruneIfEmpty(d);
    return removed;
  }

  /** IPFIX "withdraw all" (template id = set id): all data templates, or all options templates. */
  withdrawAll(d: DomainTemplates, options: boolean): number {
    let n = 0;
    for (const [id, t] of d.templates) if (t.options === options) { d.templates.delete(id); n++; }
    this.pruneIfEmpty(d);
    return n;
  }

  /** A domain that holds nothing any more is dropped, so traffic from many sources cannot grow the cache. */
  private pruneIfEmpty(d: DomainTemplates): void {
    if (d.templates.size > 0 || d.pendingByTemplate.size > 0 || d.sysInitMs >= 0) return;
    const domains = this.byExporter.get(d.exporterKey);
    if (!domains) return;
    domains.delete(d.version * 0x100000000 + d.domain);
    if (domains.size === 0) this.byExporter.delete(d.exporterKey);
  }

  /** Templates known for an exporter key, all versions and domains together. */
  templateCount(exporterKey: string): number {
    let n = 0;
    const domains = this.byExporter.get(exporterKey);
    if (domains) for (const d of domains.values()) n += d.templates.size;
    return n;
  }

  /** Exporter keys with at least one domain. */
  exporterKeys(): string[] {
    return [...this.byExporter.keys()];
  }

  /** Forget everything about an exporter key (templates, held sets). */
  forget(exporterKey: string): void {
    this.byExporter.delete(exporterKey);
    this.removePending((p) => p.exporterKey === exporterKey, false);
  }

  /**
   * Hold a data set whose template is unknown. Drops held sets older than pendingMaxAgeMs (relative to this
   * set's receivedMs), then the oldest while over the bounds. Returns whether the set is held (false: it alone
   * is larger than the byte bound) and how many were dropped or expired.
   */
  holdPending(p: PendingSet): { held: boolean; dropped: number } {
    let dropped = this.expirePending(p.receivedMs);
    if (p.data.length > this.maxPendingBytes || this.maxPendingSets < 1) return { held: false, dropped };
    while (this.pending.length >= this.maxPendingSets || this.pendingBytes + p.data.length > this.maxPendingBytes) {
      const old = this.pending.shift();
      if (!old) break;
      this.unaccount(old);
      this.droppedTotal++;
      dropped++;
    }
    this.pending.push(p);
    this.pendingBytes += p.data.length;
    const d = this.domain(p.exporterKey, p.version, p.domain, true);
    d.pendingByTemplate.set(p.templateId, (d.pendingByTemplate.get(p.templateId) ?? 0) + 1);
    return { held: true, dropped };
  }

  /** Remove and return the sets held for a template, oldest first. */
  takePending(d: DomainTemplates, templateId: number): PendingSet[] {
    if (!d.pendingByTemplate.get(templateId)) return [];
    return this.removePending((p) => p.templateId === templateId && p.domain === d.domain && p.version === d.version && p.exporterKey === d.exporterKey, false);
  }

  /** Drop held sets older than pendingMaxAgeMs; returns how many. */
  expirePending(nowMs: number): number {
    const limit = nowMs - this.pendingMaxAgeMs;
    if (this.pending.length === 0 || this.pending[0].receivedMs >= limit) return 0;
    return this.removePending((p) => p.receivedMs < limit, true).length;
  }

  /**
   * Periodic housekeeping: expire held sets, and templates not refreshed for templateMaxAgeMs (omit to keep
   * templates forever, as most collectors do for v9 whose exporters never withdraw).
   */
  expire(nowMs: number, templateMaxAgeMs?: number): { templates: number; pending: number } {
    const pending = this.expirePending(nowMs);
    let templates = 0;
    if (templateMaxAgeMs !== undefined) {
      const limit = nowMs - templateMaxAgeMs;
      for (const domains of [...this.byExporter.values()]) {
        for (const d of [...domains.values()]) {
          for (const [id, t] of d.templates) if (t.receivedMs < limit) { d.templates.delete(id); templates++; }
          this.pruneIfEmpty(d);
        }
      }
    }
    return { templates, pending };
  }

  stats(): TemplateCacheStats {
    let templates = 0, domains = 0;
    for (const ds of this.byExporter.values()) for (const d of ds.values()) { templates += d.templates.size; domains++; }
    return {
      templates, domains, pendingSets: this.pending.length, pendingBytes: this.pendingBytes,
      pendingDropped: this.droppedTotal, pendingExpired: this.expiredTotal,
    };
  }

  /** Templates and learned init times (not held sets: they are transient). */
  toJSON(): TemplateCacheJSON {
    const out: TemplateCacheJSON = { format: 'dvflow-templates/1', domains: [] };
    for (const ds of this.byExporter.values()) {
      for (const d of ds.values()) {
        if (d.templates.size === 0 && d.sysInitMs < 0) continue;
        out.domains.push({
          exporterKey: d.exporterKey, version: d.version, domain: d.domain, sysInitMs: d.sysInitMs,
          templates: [...d.templates.values()].map((t) => ({
            id: t.id, options: t.options, scopeCount: t.scopeCount, receivedMs: t.receivedMs,
            fields: t.fields.map((f): [number, number, number] => [f.id, f.length, f.pen]),
          })),
        });
      }
    }
    return out;
  }

  /** Rebuild from toJSON() output (e.g. read back from disk). Entries that do not compile are skipped. */
  static fromJSON(json: unknown, opts?: TemplateCacheOptions): TemplateCache {
    const c = new TemplateCache(opts);
    const domains = (json as Partial<TemplateCacheJSON> | null)?.domains;
    if (!Array.isArray(domains)) return c;
    for (const e of domains) {
      if (!e || typeof e.exporterKey !== 'string' || !(e.version === 9 || e.version === 10) || !Number.isInteger(e.domain)) continue;
      const d = c.domain(e.exporterKey, e.version, e.domain, true);
      if (typeof e.sysInitMs === 'number') d.sysInitMs = e.sysInitMs;
      if (!Array.isArray(e.templates)) continue;
      for (const t of e.templates) {
        if (!t || !Array.isArray(t.fields)) continue;
        const fields: TemplateField[] = [];
        for (const f of t.fields) if (Array.isArray(f)) fields.push({ id: Number(f[0]), length: Number(f[1]), pen: Number(f[2] ?? 0) });
        const compiled = compileTemplate(
          { id: Number(t.id), options: t.options === true, scopeCount: Number(t.scopeCount) || 0, fields },
          e.version, Number(t.receivedMs) || 0,
        );
        if (typeof compiled !== 'string') c.put(d, compiled);
      }
    }
    return c;
  }

  private unaccount(p: PendingSet): void {
    this.pendingBytes -= p.data.length;
    const d = this.domain(p.exporterKey, p.version, p.domain);
    if (!d) return;
    const n = (d.pendingByTemplate.get(p.templateId) ?? 1) - 1;
    if (n > 0) d.pendingByTemplate.set(p.templateId, n); else d.pendingByTemplate.delete(p.templateId);
    this.pruneIfEmpty(d);
  }

  private removePending(match: (p: PendingSet) => boolean, expired: boolean): PendingSet[] {
    const taken: PendingSet[] = [];
    const kept: PendingSet[] = [];
    for (const p of this.pending) (match(p) ? taken : kept).push(p);
    if (taken.length === 0) return taken;
    this.pending = kept;
    for (const p of taken) this.unaccount(p);
    if (expired) this.expiredTotal += taken.length;
    return taken;
  }
}
