// dvflow's own VIP file: for load balancers it has no importer for (F5, NetScaler, NSX ALB ...) or to correct an
// import. Plain YAML read with the `yaml` package (its LineCounter gives the line of every value, so each error
// is `file:line`); the checks are hand-written because they are few and must say where the mistake is.
//
//   vips:
//     - name: web                 # required, unique in the file
//       address: 10.0.0.10        # required: an IP address (0.0.0.0 or :: = every address of the LB)
//       port: 443                 # 1..65535; omitted, null, 0 or "any" = every port
//       proto: tcp                # tcp (default) | udp | any
//       kind: dr                  # proxy (default) | nat | dr | tun
//       mode: http                # optional; default tcp for proxy, else the kind
//       lbAddresses: [10.0.0.2]   # optional: the LB's own addresses towards the servers
//       balance: source           # optional, with `servers`: the one pool's algorithm
//       stick: "stick on src"     # optional, with `servers`
//       persistenceTimeout: 300   # optional, with `servers`: seconds
//       servers:                  # one pool, named after the VIP ...
//         - { name: web1, address: 10.0.1.11, port: 443, weight: 1 }
//         - { address: 10.0.1.12, backup: true }        # name defaults to ADDR[:PORT]; port null = the VIP's
//       # ... or several: pools: [{ name, balance, stick, persistenceTimeout, servers: [...] }]
//
// Server keys: name, address (IP, required), port, weight, cookie, backup, disabled, kind (when it differs from
// the VIP's). Unknown keys are warned about and skipped; a wrong type, a missing required key, a bad address,
// `servers` together with `pools`, or a duplicate VIP name is an ImportError.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YNode, type YAMLMap } from 'yaml';
import { ImportError, type LbKind, type Pool, type RealServer, type Vip } from '../inventoryModel.ts';
import { canonicalIp, hostPort, WarningList, type VipImportResult } from './vipCommon.ts';

const KINDS: readonly LbKind[] = ['proxy', 'nat', 'dr', 'tun'];
const VIP_KEYS = new Set(['name', 'address', 'port', 'proto', 'kind', 'mode', 'lbAddresses', 'balance', 'stick', 'persistenceTimeout', 'servers', 'pools']);
const POOL_KEYS = new Set(['name', 'balance', 'stick', 'persistenceTimeout', 'servers']);
const SERVER_KEYS = new Set(['name', 'address', 'port', 'weight', 'cookie', 'backup', 'disabled', 'kind']);

class YamlReader {
  private readonly lc = new LineCounter();
  private readonly warnings: WarningList;
  private doc!: Document.Parsed;

  constructor(private readonly text: string, private readonly file: string) {
    this.warnings = new WarningList(file);
  }

  private lineOf(node: YNode | null | undefined): number {
    const at = node?.range?.[0];
    return at === undefined ? 1 : this.lc.linePos(at).line;
  }

  private fail(node: YNode | null | undefined, message: string): never {
    throw new ImportError(this.file, this.lineOf(node), message);
  }

  private deref(node: unknown): YNode | null {
    if (isAlias(node)) return (node.resolve(this.doc) as YNode | undefined) ?? null;
    return (node as YNode | null) ?? null;
  }

  /** The entries of a map, with their key node; warns about keys not in `known`. */
  private entries(node: YNode, known: Set<string>, what: string): Map<string, { key: YNode; value: YNode | null }> {
    if (!isMap(node)) this.fail(node, `${what} must be a mapping`);
    const out = new Map<string, { key: YNode; value: YNode | null }>();
    for (const pair of (node as YAMLMap).items) {
      const key = pair.key as YNode;
      const name = isScalar(key) ? String(key.value) : null;
      if (name === null) this.fail(key, `keys of ${what} must be plain words`);
      if (!known.has(name)) {
        this.warnings.add(this.lineOf(key), `unknown key '${name}' in ${what}; ignored`);
        continue;
      }
      out.set(name, { key, value: this.deref(pair.value) });
    }
    return out;
  }

  private scalar(e: { key: YNode; value: YNode | null } | undefined): unknown {
    if (e === undefined || e.value === null) return undefined;
    if (!isScalar(e.value)) this.fail(e.value, 'expected a single value, not a list or mapping');
    return e.value.value;
  }

  /** `at`: where a missing required value is reported (the mapping that lacks it). */
  private str(e: { key: YNode; value: YNode | null } | undefined, what: string, required = false, at?: YNode): string | undefined {
    const v = this.scalar(e);
    if (v === undefined || v === null) {
      if (required) this.fail(e?.key ?? at, `${what} is required`);
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') this.fail(e!.value, `${what} must be text`);
    const s = String(v);
    if (required && s === '') this.fail(e!.value, `${what} must not be empty`);
    return s;
  }

  private int(e: { key: YNode; value: YNode | null } | undefined, what: string, min: number, max: number): number | undefined {
    const v = this.scalar(e);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(e!.value, `${what} must be an integer ${min}..${max}`);
    return v;
  }

  private bool(e: { key: YNode; value: YNode | null } | undefined, what: string): boolean | undefined {
    const v = this.scalar(e);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(e!.value, `${what} must be true or false`);
    return v;
  }

  private ip(e: { key: YNode; value: YNode | null } | undefined, what: string, required: boolean, at?: YNode): string | undefined {
    const s = this.str(e, what, required, at);
    if (s === undefined) return undefined;
    const ip = canonicalIp(s);
    if (ip === null) this.fail(e!.value, `${what} '${s}' is not an IP address`);
    return ip;
  }

  private port(e: { key: YNode; value: YNode | null } | undefined, what: string): number | null {
    const v = this.scalar(e);
    if (v === undefined || v === null || v === 'any') return null;
    const n = this.int(e, what, 0, 65535)!;
    return n === 0 ? null : n;
  }

  private kind(e: { key: YNode; value: YNode | null } | undefined, what: string): LbKind | undefined {
    const s = this.str(e, what);
    if (s === undefined) return undefined;
    if (!(KINDS as readonly string[]).includes(s)) this.fail(e!.value, `${what} must be one of ${KINDS.join(', ')}`);
    return s as LbKind;
  }

  private seq(e: { key: YNode; value: YNode | null } | undefined, what: string): YNode[] {
    if (e === undefined || e.value === null) return [];
    if (!isSeq(e.value)) this.fail(e.value, `${what} must be a list`);
    return e.value.items.map((i) => this.deref(i)).filter((i): i is YNode => i !== null);
  }

  parse(): VipImportResult {
    this.doc = parseDocument(this.text, { lineCounter: this.lc, prettyErrors: false });
    const err = this.doc.errors[0];
    if (err) throw new ImportError(this.file, this.lc.linePos(err.pos[0]).line, err.message.split('\n')[0]);
    for (const w of this.doc.warnings) this.warnings.add(this.lc.linePos(w.pos[0]).line, w.message.split('\n')[0]);
    const root = this.deref(this.doc.contents);
    if (root === null || (isScalar(root) && root.value === null)) return { inventory: { vips: [] }, warnings: this.warnings.sorted() };
    const top = this.entries(root, new Set(['vips']), 'the file');
    const vips: Vip[] = [];
    const seen = new Map<string, number>();
    for (const node of this.seq(top.get('vips'), 'vips')) {
      const vip = this.vip(node);
      const prev = seen.get(vip.name);
      if (prev !== undefined) this.fail(node, `duplicate VIP name '${vip.name}' (first at line ${prev})`);
      seen.set(vip.name, vip.origin!.line!);
      vips.push(vip);
    }
    return { inventory: { vips }, warnings: this.warnings.sorted() };
  }

  private vip(node: YNode): Vip {
    const m = this.entries(node, VIP_KEYS, 'a VIP');
    const name = this.str(m.get('name'), 'name', true, node)!;
    const address = this.ip(m.get('address'), `address of VIP '${name}'`, true, node)!;
    const port = this.port(m.get('port'), `port of VIP '${name}'`);
    const protoText = this.str(m.get('proto'), 'proto') ?? 'tcp';
    if (protoText !== 'tcp' && protoText !== 'udp' && protoText !== 'any') this.fail(m.get('proto')!.value, 'proto must be tcp, udp or any');
    const kind = this.kind(m.get('kind'), `kind of VIP '${name}'`) ?? 'proxy';
    const mode = this.str(m.get('mode'), 'mode') ?? (kind === 'proxy' ? 'tcp' : kind);
    const lbAddresses = this.seq(m.get('lbAddresses'), 'lbAddresses').map((n) => this.ip({ key: n, value: n }, 'lbAddresses entry', true)!);
    let pools: Pool[];
    if (m.has('pools')) {
      for (const k of ['servers', 'balance', 'stick', 'persistenceTimeout']) {
        if (m.has(k)) this.fail(m.get(k)!.key, `'${k}' goes in each pool when 'pools' is given`);
      }
      pools = this.seq(m.get('pools'), 'pools').map((p) => this.pool(p, kind, undefined));
    } else {
      pools = m.has('servers') ? [this.pool(node, kind, name, m)] : [];
    }
    return { name, address, port, proto: protoText, mode, lbKind: kind, pools, lbAddresses, origin: { kind: 'yaml', name: this.file, line: this.lineOf(node) } };
  }

  private pool(node: YNode, vipKind: LbKind, implicitName: string | undefined, vipEntries?: Map<string, { key: YNode; value: YNode | null }>): Pool {
    const m = vipEntries ?? this.entries(node, POOL_KEYS, 'a pool');
    const name = implicitName ?? this.str(m.get('name'), 'pool name', true, node)!;
    const pool: Pool = { name, servers: this.seq(m.get('servers'), 'servers').map((s) => this.server(s, vipKind)) };
    const balance = this.str(m.get('balance'), 'balance');
    if (balance !== undefined) pool.balance = balance;
    const stick = this.str(m.get('stick'), 'stick');
    if (stick !== undefined) pool.stick = stick;
    const pt = this.int(m.get('persistenceTimeout'), 'persistenceTimeout', 0, 0x7fffffff);
    if (pt !== undefined) pool.persistenceTimeout = pt;
    return pool;
  }

  private server(node: YNode, vipKind: LbKind): RealServer {
    const m = this.entries(node, SERVER_KEYS, 'a server');
    const address = this.ip(m.get('address'), 'server address', true, node)!;
    const port = this.port(m.get('port'), 'server port');
    const s: RealServer = { name: this.str(m.get('name'), 'server name') ?? hostPort(address, port), address, port };
    const weight = this.int(m.get('weight'), 'weight', 0, 65535);
    if (weight !== undefined) s.weight = weight;
    const cookie = this.str(m.get('cookie'), 'cookie');
    if (cookie !== undefined) s.cookie = cookie;
    const backup = this.bool(m.get('backup'), 'backup');
    if (backup !== undefined) s.backup = backup;
    const disabled = this.bool(m.get('disabled'), 'disabled');
    if (disabled !== undefined) s.disabled = disabled;
    const kind = this.kind(m.get('kind'), 'server kind');
    if (kind !== undefined && kind !== vipKind) s.lbKind = kind;
    return s;
  }
}

/** Parses a dvflow VIP YAML file; `file` names it in warnings, errors and origins. */
export function parseVipYaml(text: string, file: string): VipImportResult {
  return new YamlReader(text, file).parse();
}
