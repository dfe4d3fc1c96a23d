// "Clients moved between servers" for one VIP over a window [from, to) (flows that started in it): for each
// client address, the set of real servers (`backend`) it reached; a client moved when that set holds more than
// one server. Where the config asks the LB to keep a client on one server (`balance source`, LVS `sh`/`mh`, a
// stick table with `stick on|match`, `persistence_timeout`, server cookies) a move is worth a look; with
// roundrobin and the like, moves are what the LB is meant to do.
//
// Which flows tie a client to a server depends on how the LB forwards (enricher.ts names the legs):
// - DR/TUN: `server-client`, the real server answering the client straight from the VIP: dst_addr = client,
//   backend = the server whose dvPort exported the flow (flows from a port the inventory does not map name no
//   server: counted as `unattributedFlows`, left out).
// - LVS NAT (the VIP's or a server's own lbKind): `lb-server` (the LB rewrites only the destination, so
//   src_addr = client) and `server-lb` (dst_addr = client). The LB's own connections to the servers (health
//   checks) are lb-server flows too, from the LB's address, which would look like one client reaching every
//   server: so an address counts only when it also sent to the VIP (`client-vip`) in the window, whenever the
//   window holds client-vip flows for the VIP at all (if none are exported, a note says so). Known LB
//   addresses (`lbAddresses`) and VIP addresses are never clients.
// - Proxy (HAProxy): the LB connects to the servers from its own address, so no flow names the client: not
//   measurable. Except a transparent proxy (`source 0.0.0.0 usesrc clientip`), which the inventory does not
//   record but the flows show: its lb-server flows come from the clients' own addresses. When at least
//   TRANSPARENT_MIN_SOURCES distinct lb-server sources exist and TRANSPARENT_MIN_SHARE of them also sent to
//   the VIP, the VIP is measured as NAT.
// Servers are counted across all the VIP's pools (LVS has one; a note says when there are several). Duplicate
// sightings (`duplicate = 1`) are left out. Sampled NetFlow can miss a client's flows to a server: moves are
// then undercounted, never invented.
//
// Every value reaches ClickHouse as a query parameter; the SQL text is built only from our own fragments.
import { addressParam, parseAddress } from '../filter/ipAddress.ts';
import type { VipLeg } from '../inventory/enricher.ts';
import type { LbKind, Vip } from '../inventory/inventoryModel.ts';
import type { QueryRunner } from './flowQuery.ts';

export const MAX_STICKINESS_EXAMPLES = 10;
/** Widest window accepted (the raw table keeps 30 days by default anyway). */
export const MAX_STICKINESS_WINDOW_MS = 366 * 86_400_000;
const DEFAULT_WINDOW_MS = 3_600_000;
/** A proxy is taken for transparent when at least this many distinct addresses open connections to its servers ... */
export const TRANSPARENT_MIN_SOURCES = 2;
/** ... and at least this share of them also sent to the VIP as clients. */
export const TRANSPARENT_MIN_SHARE = 0.9;

export interface StickinessRequest {
  /** ms since epoch, inclusive; default `to` - 1 h. */
  from?: number;
  /** ms since epoch, exclusive; default now. */
  to?: number;
}

export interface MovedClientServer {
  server: string;
  flows: number;
  bytes: number;
  /** ms since epoch: earliest start and latest end of the client's flows with this server. */
  first: number;
  last: number;
}

export interface MovedClient {
  client: string;
  /** Most flows first. */
  servers: MovedClientServer[];
}

export interface VipStickiness {
  vip: string;
  lbKind: LbKind;
  from: number;
  to: number;
  measurable: boolean;
  /** Why it is not measurable (only when measurable is false). */
  reason?: string;
  /** The legs that tie a client to a server for this VIP. */
  legs: VipLeg[];
  /** The proxy's lb-server flows come from client addresses (usesrc clientip): measured like NAT. */
  transparentProxy: boolean;
  /** The config asks to keep a client on one server: a move matters. */
  persistent: boolean;
  /** What in the config asks for it, in words. */
  persistence: string[];
  /** Client addresses that reached at least one real server. */
  clients: number;
  /** Of those, the ones that reached more than one. */
  moved: number;
  /** moved / clients, 0 without clients. */
  movedShare: number;
  /** Up to MAX_STICKINESS_EXAMPLES moved clients, most servers and flows first. */
  examples: MovedClient[];
  /** Direct-return flows of the VIP that name no real server (their dvPort is unmapped): left out. */
  unattributedFlows: number;
  /** Caveats for this answer (no client → VIP flows to tell health checks from clients, several pools ...). */
  notes: string[];
  elapsedMs: number;
}

/** A request the caller got wrong (400). */
export class StickinessError extends Error {
  override name = 'StickinessError';
}

/** Schedulers that pick the server from the client's address: HAProxy `source`, LVS `sh` and `mh`, `hash src`. */
const SOURCE_HASH = /^(source|sh|mh)\b|^hash\b.*\bsrc\b/i;
/** A stick rule that looks entries up (a `stick-table` alone may just count, e.g. for rate limits). */
const STICK_RULE = /(^|;)\s*stick\s+(on|match)\b/i;

/** What in a VIP's config asks the LB to keep each client on one server, in words; empty when nothing does. */
export function persistenceOf(vip: Vip): string[] {
  const out: string[] = [];
  const several = vip.pools.length > 1;
  for (const p of vip.pools) {
    const where = several ? ` (pool ${p.name})` : '';
    const balance = p.balance?.trim() ?? '';
    if (SOURCE_HASH.test(balance)) out.push(`balance ${balance}: the client address picks the server${where}`);
    if (p.stick && STICK_RULE.test(p.stick)) {
      const rules = p.stick.split(';').map((x) => x.trim()).filter((x) => /^stick\s+(on|match)\b/i.test(x));
      out.push(`${rules.join('; ')}${where}`);
    }
    if (p.persistenceTimeout !== undefined && p.persistenceTimeout > 0) out.push(`persistence timeout ${p.persistenceTimeout} s${where}`);
    if (p.servers.some((s) => s.cookie)) out.push(`server cookies (HTTP cookie persistence)${where}`);
  }
  return out;
}

/** The window asked for, checked: [from, to) in ms. */
export function stickinessWindow(req: StickinessRequest, now = Date.now()): { from: number; to: number } {
  const to = req.to ?? now;
  const from = req.from ?? to - DEFAULT_WINDOW_MS;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < 0) throw new StickinessError('from and to must be whole ms since the epoch');
  if (from >= to) throw new StickinessError(`the window ends before it starts: from ${from} >= to ${to}`);
  if (to - from > MAX_STICKINESS_WINDOW_MS) throw new StickinessError(`the window is wider than ${MAX_STICKINESS_WINDOW_MS / 86_400_000} days`);
  return { from, to };
}

function isWildcard(a: string): boolean {
  return a === '' || a === '*' || a === '0.0.0.0' || a === '::';
}

/** An address as an IPv6 query parameter (IPv4 mapped), null when it is not one. */
function ipParam(a: string): string | null {
  if (isWildcard(a.trim())) return null;
  const p = parseAddress(a.trim());
  return p ? addressParam(p.value) : null;
}

interface Facts {
  client_vip: number;
  lb_sources: number;
  lb_client_sources: number;
  unattributed: number;
}

interface ExampleRow {
  client_text: string;
  servers: string[];
  flows: number[];
  bytes: number[];
  firsts: number[];
  lasts: number[];
}

export class VipStickinessQuery {
  constructor(private readonly runner: QueryRunner) {}

  /**
   * Clients moved between `vip`'s real servers in the window. `inventory` is every VIP known (their addresses
   * and LB addresses are never clients); defaults to `vip` alone.
   */
  async run(vip: Vip, req: StickinessRequest, inventory: Vip[] = [vip], now = Date.now()): Promise<VipStickiness> {
    const t0 = performance.now();
    const { from, to } = stickinessWindow(req, now);
    const persistence = persistenceOf(vip);
    const servers = vip.pools.flatMap((p) => p.servers);
    const direct = vip.lbKind === 'dr' || vip.lbKind === 'tun';
    let natServers = [...new Set(servers.filter((s) => (s.lbKind ?? vip.lbKind) === 'nat').map((s) => s.name))];
    const answer: VipStickiness = {
      vip: vip.name, lbKind: vip.lbKind, from, to, measurable: false, legs: [], transparentProxy: false,
      persistent: persistence.length > 0, persistence, clients: 0, moved: 0, movedShare: 0, examples: [], unattributedFlows: 0, notes: [], elapsedMs: 0,
    };
    const done = () => ({ ...answer, elapsedMs: Math.round((performance.now() - t0) * 10) / 10 });

    if (servers.length === 0) {
      answer.reason = 'the inventory lists no real servers for this VIP';
      return done();
    }

    const excluded = [...new Set(inventory.flatMap((v) => [v.address, ...v.lbAddresses]).map(ipParam).filter((x): x is string => x !== null))];
    const params: Record<string, unknown> = { s_vip: vip.name, s_from: from, s_to: to, s_excluded: excluded };
    const base = 'vip = {s_vip:String} AND first >= fromUnixTimestamp64Milli({s_from:Int64}) AND first < fromUnixTimestamp64Milli({s_to:Int64}) AND duplicate = 0';
    const clientVipSources = `SELECT src_addr FROM flows WHERE ${base} AND vip_leg = 'client-vip'`;
    const lbSource = "vip_leg = 'lb-server' AND NOT has({s_excluded:Array(IPv6)}, src_addr)";
    const [facts] = await this.runner.queryRows<Facts>(
      `SELECT countIf(vip_leg = 'client-vip') AS client_vip,
              uniqExactIf(src_addr, ${lbSource}) AS lb_sources,
              uniqExactIf(src_addr, ${lbSource} AND src_addr IN (${clientVipSources})) AS lb_client_sources,
              countIf(vip_leg = 'server-client' AND backend = '') AS unattributed
       FROM flows WHERE ${base}`,
      params,
    );
    const f: Facts = { client_vip: Number(facts?.client_vip ?? 0), lb_sources: Number(facts?.lb_sources ?? 0), lb_client_sources: Number(facts?.lb_client_sources ?? 0), unattributed: Number(facts?.unattributed ?? 0) };
    answer.unattributedFlows = direct ? f.unattributed : 0;

    if (vip.lbKind === 'proxy') {
      const transparent = f.lb_sources >= TRANSPARENT_MIN_SOURCES && f.lb_client_sources >= TRANSPARENT_MIN_SHARE * f.lb_sources;
      if (!transparent) {
        const lbFrom = vip.lbAddresses.length ? vip.lbAddresses.join(', ') : 'its own address';
        answer.reason = `proxy mode: the load balancer opens its own connections to the real servers (from ${lbFrom}), so no flow ties a client to a server; only a transparent proxy (source … usesrc clientip) would show the servers the client's address`;
        return done();
      }
      answer.transparentProxy = true;
      natServers = [...new Set(servers.map((s) => s.name))];
      answer.notes.push(`transparent proxy: ${f.lb_client_sources} of ${f.lb_sources} addresses connecting to the real servers are clients of the VIP, so the servers see client addresses`);
    }
    if (!direct && natServers.length === 0) {
      answer.reason = `no real server forwards in a mode whose flows name the client (${vip.lbKind})`;
      return done();
    }

    answer.measurable = true;
    const legConds: string[] = [];
    if (direct) {
      answer.legs.push('server-client');
      legConds.push("vip_leg = 'server-client'");
    }
    const checkClients = natServers.length > 0 && f.client_vip > 0;
    if (natServers.length > 0) {
      answer.legs.push('lb-server', 'server-lb');
      legConds.push("(vip_leg IN ('lb-server', 'server-lb') AND backend IN {s_nat:Array(String)})");
      params.s_nat = natServers;
      if (!checkClients) {
        answer.notes.push('no client → VIP flows in this window to tell clients from the load balancer\'s own connections to the servers (health checks): an LB address may count as a client that moved');
      }
    }
    if (vip.pools.length > 1) answer.notes.push(`${vip.pools.length} pools: servers are counted across them, so a client using more than one pool counts as moved`);
    if (answer.unattributedFlows > 0) {
      answer.notes.push(`${answer.unattributedFlows} direct-return flows name no real server (their dvPort is not in the portgroup inventory) and are left out`);
    }

    // One row per (client, server) the client reached.
    const pairs = `SELECT client, backend, count() AS pf, sum(bytes) AS pb, min(first) AS f, max(last) AS l
      FROM (
        SELECT if(vip_leg = 'lb-server', src_addr, dst_addr) AS client, backend, bytes, first, last, vip_leg
        FROM flows
        WHERE ${base} AND backend != '' AND (${legConds.join(' OR ')})
      )
      WHERE NOT has({s_excluded:Array(IPv6)}, client)${checkClients ? ` AND (vip_leg = 'server-client' OR client IN (${clientVipSources}))` : ''}
      GROUP BY client, backend`;
    const [sum] = await this.runner.queryRows<{ clients: number; moved: number }>(
      `SELECT count() AS clients, countIf(n > 1) AS moved FROM (SELECT client, count() AS n FROM (${pairs}) GROUP BY client)`,
      params,
    );
    answer.clients = Number(sum?.clients ?? 0);
    answer.moved = Number(sum?.moved ?? 0);
    answer.movedShare = answer.clients > 0 ? answer.moved / answer.clients : 0;
    if (answer.moved > 0) {
      const rows = await this.runner.queryRows<ExampleRow>(
        `SELECT replaceRegexpOne(toString(client), '^::ffff:', '') AS client_text,
                groupArray(toString(backend)) AS servers, groupArray(pf) AS flows, groupArray(pb) AS bytes,
                groupArray(toUnixTimestamp64Milli(f)) AS firsts, groupArray(toUnixTimestamp64Milli(l)) AS lasts
         FROM (${pairs})
         GROUP BY client
         HAVING count() > 1
         ORDER BY count() DESC, sum(pf) DESC, client_text
         LIMIT ${MAX_STICKINESS_EXAMPLES}`,
        params,
      );
      answer.examples = rows.map((r) => ({
        client: r.client_text,
        servers: r.servers
          .map((server, i) => ({ server, flows: Number(r.flows[i]), bytes: Number(r.bytes[i]), first: Number(r.firsts[i]), last: Number(r.lasts[i]) }))
          .sort((a, b) => b.flows - a.flows || a.server.localeCompare(b.server)),
      }));
    }
    return done();
  }
}
