// What dvflow knows about the virtual network: dvSwitches and their dvPorts (portgroup, VM, vNIC), portgroup
// VLANs and CIDR fallbacks, and the load balancers' VIPs with their pools. Every importer (file, govc JSON,
// live vCenter, haproxy.cfg, keepalived.conf, ldirectord.cf) produces these shapes; the enricher reads them.

/** Where a fact came from, for messages and for precedence when sources are merged. */
export interface Origin {
  /** 'file' (YAML/JSON/CSV inventory), 'govc', 'vcenter', 'haproxy', 'keepalived', 'ldirectord', 'yaml'. */
  kind: string;
  /** File name or vCenter URL (never credentials). */
  name: string;
  /** 1-based line in the file, when there is one. */
  line?: number;
}

/** VMware's interface attribute (IPFIX PEN 6876 IE 888/890): what sits behind a dvPort. */
export type DvPortKind = 'uplink' | 'vm' | 'vmknic' | 'unknown';

export interface DvPort {
  /** dvPort key as the switch exports it in ingress/egressInterface. */
  key: number;
  portgroup: string;
  vm?: string;
  /** e.g. 'Network adapter 1'. */
  vnic?: string;
  /** aa:bb:cc:dd:ee:ff, lower case. */
  mac?: string;
  vlan?: number;
  kind?: DvPortKind;
  /** Guest addresses of the vNIC (vCenter guest info or the file): tell a VM's own traffic from traffic it receives. */
  ips?: string[];
}

/** A dvSwitch's NetFlow/IPFIX settings as vCenter holds them (VMwareIpfixConfig + switchIpAddress). */
export interface DvsNetflowSettings {
  collectorAddress?: string;
  collectorPort?: number;
  /** The "Switch IP": every host exports from it, told apart by source port. */
  switchIp?: string;
  observationDomain?: number;
  /** 1 in N; 0 or 1 = unsampled. */
  samplingRate?: number;
  activeTimeout?: number;
  idleTimeout?: number;
  internalFlowsOnly?: boolean;
}

export interface DvSwitch {
  name: string;
  uuid?: string;
  /**
   * Exporters whose interface numbers are this switch's dvPort keys: "10.0.0.5" (any observation domain)
   * or "10.0.0.5/7" (observation domain 7). With a Switch IP, list that address.
   */
  exporters: string[];
  ports: DvPort[];
  netflow?: DvsNetflowSettings;
  origin?: Origin;
}

export interface Portgroup {
  name: string;
  switch?: string;
  /** Access VLAN; undefined for trunks and uplinks. */
  vlan?: number;
  /** 'uplink' for the dvSwitch uplink portgroup. */
  kind?: 'vm' | 'uplink';
  /** vCenter managed object id (dvportgroup-12) when known. */
  key?: string;
}

export interface PortgroupInventory {
  switches: DvSwitch[];
  portgroups: Portgroup[];
  /** VLAN id → portgroup: fallback when the dvPort is unknown (and for pcap flows). */
  vlans: Array<{ vlan: number; portgroup: string; switch?: string }>;
  /** CIDR → portgroup: last fallback, by source (in) and destination (out) address. */
  cidrs: Array<{ cidr: string; portgroup: string }>;
  /** Display names of exporters (ESXi hosts), shown in the `exporter` column. */
  exporterNames?: Array<{ address: string; name: string }>;
}

export function emptyPortgroupInventory(): PortgroupInventory {
  return { switches: [], portgroups: [], vlans: [], cidrs: [] };
}

// ---- load balancers ----

/**
 * How the LB forwards: 'proxy' (HAProxy: two TCP connections, LB address towards the servers), 'nat' (LVS NAT /
 * ldirectord masq: destination rewritten, replies back through the LB), 'dr' (LVS direct routing / gate: MAC
 * rewritten, replies go straight to the client), 'tun' (LVS IP-in-IP / ipip: replies straight to the client).
 */
export type LbKind = 'proxy' | 'nat' | 'dr' | 'tun';

export interface RealServer {
  name: string;
  address: string;
  /** null: same port as the VIP (LVS) or any. */
  port: number | null;
  weight?: number;
  cookie?: string;
  backup?: boolean;
  disabled?: boolean;
  /** keepalived/ldirectord per-server forwarding method when it differs from the virtual server's. */
  lbKind?: LbKind;
}

export interface Pool {
  name: string;
  /** roundrobin, leastconn, source, uri, rr, wlc, sh, ... as the config says. */
  balance?: string;
  servers: RealServer[];
  /** HAProxy `stick-table` / `stick on` description, if any. */
  stick?: string;
  /** keepalived `persistence_timeout` / ldirectord `persistent`, seconds. */
  persistenceTimeout?: number;
}

export interface Vip {
  /** Frontend/listen name, virtual_server "addr port", ldirectord virtual=, YAML name. Unique within an inventory. */
  name: string;
  /** '0.0.0.0' or '::' when bound to every address (HAProxy `bind *:80`). */
  address: string;
  /** null = every port (LVS fwmark or port 0). */
  port: number | null;
  proto: 'tcp' | 'udp' | 'any';
  /** HAProxy `mode tcp|http`; for LVS the same as lbKind. */
  mode: string;
  lbKind: LbKind;
  /** The default pool first, then `use_backend` pools. */
  pools: Pool[];
  /** Addresses the LB itself uses towards the servers (HAProxy `source`, YAML), when known. */
  lbAddresses: string[];
  origin?: Origin;
}

export interface VipInventory {
  vips: Vip[];
}

export function emptyVipInventory(): VipInventory {
  return { vips: [] };
}

/** Something an importer skipped or did not understand; never fatal. */
export interface ImportWarning {
  file: string;
  line: number;
  message: string;
}

/** A config the importer cannot use at all (syntax it cannot recover from). */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}
