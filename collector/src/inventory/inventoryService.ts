// The daemon's inventory: loads every source (config-listed files, files imported into <data>/inventory, the
// live vCenter sync), merges them (files > vCenter > govc), builds the Enricher and hands it to the flow sink,
// and reloads when a file changes (polled: fs.watch misses edits on some file systems and editors that rename).
// A file that stops parsing keeps its last good content, and the error is shown in `dvflow inventory show`.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { DvflowConfig } from '../config/config.ts';
import { Enricher, type UnmappedPort } from './enricher.ts';
import { mergePortgroupInventories } from './mergeInventory.ts';
import { inventoryCounts, parseInventoryFile, type InventoryKind, type ParsedInventoryFile } from './inventoryFiles.ts';
import { emptyPortgroupInventory, emptyVipInventory, ImportError, type ImportWarning, type PortgroupInventory, type VipInventory } from './inventoryModel.ts';
import { mergeVipInventories } from './vip/importVipConfig.ts';

export interface SourceStatus {
  kind: InventoryKind | 'vcenter';
  /** File path, or the vCenter URL. */
  name: string;
  format: string;
  /** Imported with `dvflow inventory|vip import` (lives in the data directory). */
  imported: boolean;
  ok: boolean;
  error?: string;
  warnings: ImportWarning[];
  counts: Record<string, number>;
  loadedAt: number;
}

export interface InventorySnapshot {
  portgroups: PortgroupInventory;
  vips: VipInventory;
  sources: SourceStatus[];
  stats: Enricher['stats'];
  unmapped: UnmappedPort[];
  version: number;
}

interface FileState {
  path: string;
  kind: InventoryKind;
  imported: boolean;
  mtimeMs: number;
  size: number;
  parsed: ParsedInventoryFile | null;
  status: SourceStatus;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class InventoryService {
  private files = new Map<string, FileState>();
  private vcenter: { inventory: PortgroupInventory; status: SourceStatus } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private version = 0;
  enricher: Enricher = new Enricher(emptyPortgroupInventory(), emptyVipInventory());
  private merged = { portgroups: emptyPortgroupInventory(), vips: emptyVipInventory() };

  constructor(private readonly o: {
    config: DvflowConfig;
    log: Logger;
    /** Called with each new enricher (after the first load and every change). */
    onChange: (e: Enricher, merged: { portgroups: PortgroupInventory; vips: VipInventory }) => void;
  }) {}

  dir(kind: InventoryKind): string {
    return join(this.o.config.data, 'inventory', kind);
  }

  /** First load, then poll for changes. */
  start(): void {
    this.scan(true);
    this.timer = setInterval(() => this.scan(false), this.o.config.inventory.reloadSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private listed(): Array<{ path: string; kind: InventoryKind; imported: boolean }> {
    const out: Array<{ path: string; kind: InventoryKind; imported: boolean }> = [];
    for (const f of this.o.config.inventory.files) out.push({ path: f, kind: 'portgroups', imported: false });
    for (const f of this.o.config.inventory.vipFiles) out.push({ path: f, kind: 'vips', imported: false });
    for (const kind of ['portgroups', 'vips'] as const) {
      const d = this.dir(kind);
      if (!existsSync(d)) continue;
      for (const n of readdirSync(d).sort()) if (!n.startsWith('.') && !n.endsWith('.tmp')) out.push({ path: join(d, n), kind, imported: true });
    }
    return out;
  }

  /** Re-read files whose size or mtime changed; rebuild the enricher when anything did. Returns whether it did. */
  scan(force: boolean): boolean {
    let changed = force;
    const seen = new Set<string>();
    for (const l of this.listed()) {
      seen.add(l.path);
      let st: { mtimeMs: number; size: number } | null = null;
      try {
        st = statSync(l.path);
      } catch { /* reported below */ }
      const prev = this.files.get(l.path);
      if (prev && st && prev.mtimeMs === st.mtimeMs && prev.size === st.size && !force) continue;
      if (prev && !st && !prev.status.ok && !force) continue;
      changed = true;
      this.files.set(l.path, this.load(l, st, prev));
    }
    for (const p of [...this.files.keys()]) {
      if (!seen.has(p)) {
        this.files.delete(p);
        changed = true;
      }
    }
    if (changed) this.rebuild();
    return changed;
  }

  private load(l: { path: string; kind: InventoryKind; imported: boolean }, st: { mtimeMs: number; size: number } | null, prev: FileState | undefined): FileState {
    const base: SourceStatus = { kind: l.kind, name: l.path, format: prev?.status.format ?? '', imported: l.imported, ok: false, warnings: [], counts: {}, loadedAt: Date.now() };
    try {
      if (!st) throw new ImportError(l.path, 0, 'file not found');
      const parsed = parseInventoryFile(l.kind, readFileSync(l.path, 'utf8'), l.path);
      for (const w of parsed.warnings.slice(0, 20)) this.o.log.warn({ file: w.file, line: w.line }, `inventory: ${w.message}`);
      this.o.log.info({ file: l.path, kind: l.kind, format: parsed.format, ...inventoryCounts(parsed) }, 'inventory file loaded');
      return { ...l, mtimeMs: st.mtimeMs, size: st.size, parsed, status: { ...base, format: parsed.format, ok: true, warnings: parsed.warnings, counts: inventoryCounts(parsed) } };
    } catch (e) {
      const msg = e instanceof ImportError ? e.message : `${l.path}: ${(e as Error).message}`;
      this.o.log.error({ file: l.path }, `inventory file not loaded${prev?.parsed ? ' (keeping its last good content)' : ''}: ${msg}`);
      return { ...l, mtimeMs: st?.mtimeMs ?? 0, size: st?.size ?? 0, parsed: prev?.parsed ?? null, status: { ...base, error: msg, counts: prev?.parsed ? inventoryCounts(prev.parsed) : {} } };
    }
  }

  /** The live vCenter sync hands its latest good inventory here. */
  setVcenter(url: string, inventory: PortgroupInventory | null, error?: string): void {
    const counts = inventory ? { switches: inventory.switches.length, ports: inventory.switches.reduce((n, s) => n + s.ports.length, 0), portgroups: inventory.portgroups.length } : (this.vcenter?.status.counts ?? {});
    const keep = inventory ?? this.vcenter?.inventory ?? emptyPortgroupInventory();
    this.vcenter = { inventory: keep, status: { kind: 'vcenter', name: url, format: 'vcenter', imported: false, ok: !error, error, warnings: [], counts, loadedAt: Date.now() } };
    if (inventory) this.rebuild();
  }

  private rebuild(): void {
    const states = [...this.files.values()];
    const pgOf = (pred: (s: FileState) => boolean) => states.filter((s) => s.kind === 'portgroups' && s.parsed?.portgroups && pred(s)).map((s) => s.parsed!.portgroups!);
    // Precedence: hand-kept files, then vCenter, then govc exports.
    const portgroups = mergePortgroupInventories([
      ...pgOf((s) => s.parsed!.format !== 'govc'),
      ...(this.vcenter ? [this.vcenter.inventory] : []),
      ...pgOf((s) => s.parsed!.format === 'govc'),
    ]);
    const vipParts = states.filter((s) => s.kind === 'vips' && s.parsed?.vips).map((s) => s.parsed!.vips!);
    const vips = mergeVipInventories(vipParts).inventory;
    const next = new Enricher(portgroups, vips);
    next.inheritUnmapped(this.enricher);
    this.enricher = next;
    this.merged = { portgroups, vips };
    this.version++;
    this.o.log.info({ ...next.stats, version: this.version }, 'inventory applied');
    this.o.onChange(next, this.merged);
  }

  /** The merged inventories in force (no source list, no sorted unmapped list: cheap enough per keystroke). */
  current(): { portgroups: PortgroupInventory; vips: VipInventory } {
    return this.merged;
  }

  snapshot(): InventorySnapshot {
    const sources = [...this.files.values()].map((f) => f.status);
    if (this.vcenter) sources.push(this.vcenter.status);
    return { ...this.merged, sources, stats: this.enricher.stats, unmapped: this.enricher.unmappedPorts(), version: this.version };
  }

  /**
   * Store a file in <data>/inventory/<kind>/<name> after checking that it parses, and apply it now. A file of
   * the same name is replaced. Throws ImportError (bad content) or Error (bad name).
   */
  importFile(kind: InventoryKind, name: string, text: string): { parsed: ParsedInventoryFile; path: string; replaced: boolean } {
    const n = basename(name);
    if (!NAME_RE.test(n)) throw new Error(`invalid file name '${name}': letters, digits, '.', '_' and '-' only`);
    const parsed = parseInventoryFile(kind, text, n);
    const d = this.dir(kind);
    mkdirSync(d, { recursive: true });
    const path = join(d, n);
    const replaced = existsSync(path);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    this.scan(false);
    return { parsed, path, replaced };
  }

  /** Remove an imported file; false when there is none by that name. */
  removeFile(kind: InventoryKind, name: string): boolean {
    const n = basename(name);
    if (!NAME_RE.test(n)) return false;
    const path = join(this.dir(kind), n);
    if (!existsSync(path)) return false;
    unlinkSync(path);
    this.scan(false);
    return true;
  }
}
