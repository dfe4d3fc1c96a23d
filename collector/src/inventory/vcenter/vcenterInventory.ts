// dvSwitch inventory from vCenter: the live SOAP sync (fetchVcenterInventory, VcenterSync) and the builder shared
// with the govc JSON importer (buildPortgroupInventory over a VsphereSnapshot).
//
// What is read, per dvSwitch (DistributedVirtualSwitch: name, uuid, config): the dvPorts from FetchDVPorts (key,
// portgroupKey, config.setting.vlan, connectee), the portgroups (DistributedVirtualPortgroup: name, key, config,
// portKeys, tag), the VMs' NICs (VirtualMachine: name, config.hardware.device, guest.net) and the hosts (HostSystem:
// name, config.network.vnic). dvPort key → portgroup comes from the port's portgroupKey (else the portgroups'
// portKeys, else the VM NIC backing that holds the port); VM, vNIC label and MAC from the connectee (VM + device
// key) or the NIC backing's port key; the VLAN from the port's own setting (else the portgroup's), access VLANs
// only (trunk and private VLAN specs give none); the NetFlow settings from config.ipfixConfig and
// config.switchIpAddress. Port keys must be unique within a switch (a real vCenter's are); duplicates (the govmomi
// simulator repeats 0..N-1 in every portgroup) keep one entry, chosen deterministically, with a warning.
import { isIP } from 'node:net';
import type { DvPort, DvPortKind, DvSwitch, DvsNetflowSettings, ImportWarning, Origin, Portgroup, PortgroupInventory } from '../inventoryModel.ts';
import { displayUrl, VsphereSoapClient, type Loose, type LooseObject, type MoRef } from './soapClient.ts';

// ---- reading loose values (XML-derived or JSON-derived) ----

export function isObj(v: Loose | undefined): v is LooseObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first value when XML gave an array for a single field. */
export function one(v: Loose | undefined): Loose | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A list, unwrapping vim25's ArrayOfX wrappers as XML (`{_typeName: 'ArrayOfString', string: [...]}`), govc's
 * JSON (`{string: [...]}` once keys are normalised) and the VI/JSON API (`{_typeName, _value: [...]}`) give them.
 */
export function many(v: Loose | undefined): Loose[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) {
    if (v.length === 1 && isObj(v[0]) && isArrayWrapper(v[0])) return many(v[0]);
    return v;
  }
  if (isObj(v) && isArrayWrapper(v)) {
    if (Array.isArray(v._value)) return v._value;
    const k = Object.keys(v).find((x) => x !== '_typeName');
    const inner = k === undefined ? undefined : v[k];
    return inner === undefined || inner === null ? [] : Array.isArray(inner) ? inner : [inner];
  }
  return [v];
}

function isArrayWrapper(o: LooseObject): boolean {
  const t = typeof o._typeName === 'string' ? o._typeName : '';
  if (t.startsWith('ArrayOf')) return true;
  if (t) return false;
  if ('_value' in o) return Array.isArray(o._value);
  const keys = Object.keys(o);
  return keys.length === 1 && (Array.isArray(o[keys[0]!]) || o[keys[0]!] === null);
}

/** obj.a.b.c, taking the first element of arrays on the way. */
export function path(v: Loose | undefined, dotted: string): Loose | undefined {
  let cur = v;
  for (const part of dotted.split('.')) {
    const o = one(cur);
    if (!isObj(o)) return undefined;
    cur = o[part];
  }
  return cur;
}

export function str(v: Loose | undefined): string | undefined {
  const x = one(v);
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return undefined;
}

export function num(v: Loose | undefined): number | undefined {
  const x = one(v);
  if (typeof x === 'number') return Number.isFinite(x) ? x : undefined;
  if (typeof x === 'string' && /^-?\d+(\.\d+)?$/.test(x.trim())) return Number(x);
  return undefined;
}

export function bool(v: Loose | undefined): boolean | undefined {
  const x = one(v);
  if (typeof x === 'boolean') return x;
  if (x === 'true' || x === '1') return true;
  if (x === 'false' || x === '0') return false;
  return undefined;
}

export function ref(v: Loose | undefined): MoRef | undefined {
  const x = one(v);
  if (!isObj(x)) return undefined;
  const type = str(x.type);
  const value = str(x.value);
  return type && value ? { type, value } : undefined;
}

function typeName(v: Loose | undefined): string | undefined {
  const x = one(v);
  return isObj(x) ? str(x._typeName) : undefined;
}

// ---- the source-neutral snapshot ----

/** What the builder needs, as vCenter (SOAP) or govc (JSON) delivered it. `line` is the govc input line. */
export interface VsphereSnapshot {
  switches: Array<{ ref: string; name?: string; uuid?: string; config?: Loose; line?: number }>;
  portgroups: Array<{ ref: string; name?: string; key?: string; config?: Loose; portKeys?: Loose; tag?: Loose; line?: number }>;
  vms: Array<{ ref: string; name?: string; devices?: Loose; guestNet?: Loose; line?: number }>;
  hosts: Array<{ ref: string; name?: string; vnics?: Loose; proxySwitches?: Loose; line?: number }>;
  /** DistributedVirtualPort values; switchRef when known from the call (FetchDVPorts on that switch). */
  ports: Array<{ port: Loose; switchRef?: string; line?: number }>;
}

export function emptySnapshot(): VsphereSnapshot {
  return { switches: [], portgroups: [], vms: [], hosts: [], ports: [] };
}

export interface BuildOptions {
  origin: Origin;
  /** `file` of the warnings: the govc file or the vCenter URL. */
  warnFile: string;
}

const MAX_KEY_WARNINGS = 20;

/** A VLAN spec → access VLAN id; undefined for trunks, private VLANs and missing specs. */
export function accessVlan(spec: Loose | undefined): number | undefined {
  const s = one(spec);
  if (!isObj(s)) return undefined;
  const t = str(s._typeName);
  if (t && t !== 'VmwareDistributedVirtualSwitchVlanIdSpec') return undefined;
  if (s.pvlanId !== undefined) return undefined;
  const raw = s.vlanId;
  // A trunk spec has vlanId as NumericRange list (objects); an access spec a single number.
  if (Array.isArray(raw) && (raw.length !== 1 || isObj(raw[0]))) return undefined;
  if (isObj(one(raw))) return undefined;
  const id = num(raw);
  return id !== undefined && Number.isInteger(id) && id >= 0 && id <= 4094 ? id : undefined;
}

export function normalizeMac(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = v.trim().toLowerCase().replace(/-/g, ':');
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m) ? m : undefined;
}

function portKind(connecteeType: string | undefined): DvPortKind | undefined {
  switch (connecteeType) {
    case undefined:
    case '':
      return undefined;
    case 'vmVnic':
      return 'vm';
    case 'pnic':
      return 'uplink';
    case 'hostConsoleVnic':
    case 'hostVmkVnic':
    case 'systemCrxVnic':
      return 'vmknic';
    default:
      return 'unknown';
  }
}

/** Something attached to a dvPort as its owner reports it: a VM NIC backing, a host vmknic, a host uplink. */
interface NicInfo {
  kind: 'vm' | 'vmknic' | 'uplink';
  /** VM or host name. */
  vm: string;
  vmRef: string;
  /** vNIC label, vmk device or vmnic device. */
  label?: string;
  mac?: string;
  switchUuid?: string;
  portgroupKey?: string;
  portKey?: string;
  ips?: string[];
}

interface Candidate {
  key: number;
  index: number;
  line?: number;
  port: DvPort;
  connected: boolean;
  /** Portgroups the entry may belong to (several when only the portgroups' portKeys place it). */
  groups: string[];
}

/** Builds dvflow's portgroup inventory from a snapshot. Pure; never throws on odd input, warns instead. */
export function buildPortgroupInventory(snap: VsphereSnapshot, o: BuildOptions): { inventory: PortgroupInventory; warnings: ImportWarning[] } {
  const warnings: ImportWarning[] = [];
  const warn = (message: string, line = 0): void => {
    warnings.push({ file: o.warnFile, line, message });
  };

  // VMs: name, NICs by device key, guest addresses by device key.
  const vmByRef = new Map<string, { name: string; nics: Map<string, NicInfo> }>();
  const nicByPort = new Map<string, NicInfo>(); // `${switchUuid}/${portKey}`
  for (const vm of snap.vms) {
    const name = vm.name ?? vm.ref;
    const ipsByKey = new Map<string, string[]>();
    for (const g of many(vm.guestNet)) {
      const dev = str(path(g, 'deviceConfigId'));
      if (!dev || dev === '-1') continue;
      const ips = many(path(g, 'ipAddress'))
        .map((x) => str(x))
        .filter((x): x is string => !!x && isIP(x.split('%')[0]!) !== 0);
      if (ips.length) ipsByKey.set(dev, ips);
    }
    const nics = new Map<string, NicInfo>();
    for (const d of many(vm.devices)) {
      if (!isObj(one(d))) continue;
      const macRaw = str(path(d, 'macAddress'));
      const t = typeName(d);
      const isNic = macRaw !== undefined || (t !== undefined && /Ethernet|Vmxnet|E1000|Pcnet|Sriov/i.test(t));
      if (!isNic) continue;
      const key = str(path(d, 'key'));
      if (!key) continue;
      const port = path(d, 'backing.port');
      const nic: NicInfo = {
        kind: 'vm',
        vm: name,
        vmRef: vm.ref,
        label: str(path(d, 'deviceInfo.label')) || undefined,
        mac: normalizeMac(macRaw),
        switchUuid: str(path(port, 'switchUuid')) || undefined,
        portgroupKey: str(path(port, 'portgroupKey')) || undefined,
        portKey: str(path(port, 'portKey')) || undefined,
        ips: ipsByKey.get(key),
      };
      if (macRaw && !nic.mac) warn(`VM ${name}: NIC ${nic.label ?? key} has an unreadable MAC ${JSON.stringify(macRaw)}`, vm.line);
      nics.set(key, nic);
      if (nic.switchUuid && nic.portKey) nicByPort.set(`${nic.switchUuid}/${nic.portKey}`, nic);
    }
    vmByRef.set(vm.ref, { name, nics });
  }

  const hostByRef = new Map<string, string>();
  const exporterNames: Array<{ address: string; name: string }> = [];
  const exporterSeen = new Map<string, string>();
  const addExporterName = (address: string, name: string, line?: number): void => {
    const prev = exporterSeen.get(address);
    if (prev === undefined) {
      exporterSeen.set(address, name);
      exporterNames.push({ address, name });
    } else if (prev !== name) {
      warn(`address ${address} belongs to both ${prev} and ${name}; keeping ${prev}`, line);
    }
  };
  for (const h of [...snap.hosts].sort((a, b) => (a.name ?? a.ref).localeCompare(b.name ?? b.ref))) {
    const name = h.name ?? h.ref;
    hostByRef.set(h.ref, name);
    // The host's vmknics' addresses: where its IPFIX comes from when the switch has no Switch IP.
    const vnics = many(h.vnics);
    const sorted = [...vnics].sort((a, b) => (str(path(a, 'device')) ?? '').localeCompare(str(path(b, 'device')) ?? ''));
    for (const v of sorted) {
      const ip = str(path(v, 'spec.ip.ipAddress'));
      if (ip && isIP(ip)) addExporterName(ip, name, h.line);
      const dvp = path(v, 'spec.distributedVirtualPort');
      const switchUuid = str(path(dvp, 'switchUuid'));
      const portKey = str(path(dvp, 'portKey'));
      if (switchUuid && portKey) {
        const vmk: NicInfo = { kind: 'vmknic', vm: name, vmRef: h.ref, label: str(path(v, 'device')) || undefined, mac: normalizeMac(str(path(v, 'spec.mac'))), switchUuid, portKey, portgroupKey: str(path(dvp, 'portgroupKey')) || undefined };
        if (ip && isIP(ip)) vmk.ips = [ip];
        nicByPort.set(`${switchUuid}/${portKey}`, vmk);
      }
    }
    // The host's uplinks on each dvSwitch: proxySwitch[].spec.backing.pnicSpec[].
    for (const ps of many(h.proxySwitches)) {
      const switchUuid = str(path(ps, 'dvsUuid'));
      if (!switchUuid) continue;
      for (const pnic of many(path(ps, 'spec.backing.pnicSpec'))) {
        const portKey = str(path(pnic, 'uplinkPortKey'));
        if (!portKey) continue;
        nicByPort.set(`${switchUuid}/${portKey}`, { kind: 'uplink', vm: name, vmRef: h.ref, label: str(path(pnic, 'pnicDevice')) || undefined, switchUuid, portKey, portgroupKey: str(path(pnic, 'uplinkPortgroupKey')) || undefined });
      }
    }
  }

  // Switches by ref and uuid; ports whose switch was not in the input get one named by its uuid.
  type Sw = { ref: string; name: string; uuid?: string; config?: Loose; line?: number };
  const switches: Sw[] = [];
  const swByRef = new Map<string, Sw>();
  const swByUuid = new Map<string, Sw>();
  for (const s of snap.switches) {
    const sw: Sw = { ref: s.ref, name: s.name ?? str(path(s.config, 'name')) ?? s.ref, uuid: s.uuid ?? str(path(s.config, 'uuid')), config: s.config, line: s.line };
    if (swByRef.has(sw.ref)) continue;
    switches.push(sw);
    swByRef.set(sw.ref, sw);
    if (sw.uuid) swByUuid.set(sw.uuid, sw);
  }

  // Portgroups by ref and key.
  type Pg = { ref: string; name: string; key: string; switchRef?: string; vlan?: number; uplink: boolean; portKeys: string[]; line?: number };
  const pgs: Pg[] = [];
  const pgByKey = new Map<string, Pg>();
  for (const p of snap.portgroups) {
    const key = p.key ?? str(path(p.config, 'key')) ?? p.ref;
    const name = p.name ?? str(path(p.config, 'name')) ?? key;
    const uplinkTag = many(p.tag).some((t) => str(path(t, 'key')) === 'SYSTEM/DVS.UPLINKPG');
    const pg: Pg = {
      ref: p.ref,
      name,
      key,
      switchRef: ref(path(p.config, 'distributedVirtualSwitch'))?.value,
      vlan: accessVlan(path(p.config, 'defaultPortConfig.vlan')),
      uplink: uplinkTag || bool(path(p.config, 'uplink')) === true,
      portKeys: many(p.portKeys).map((x) => str(x)).filter((x): x is string => !!x),
      line: p.line,
    };
    if (pgByKey.has(pg.ref)) continue;
    pgs.push(pg);
    pgByKey.set(pg.ref, pg);
    if (key !== pg.ref && !pgByKey.has(key)) pgByKey.set(key, pg);
  }
  for (const sw of switches) {
    for (const r of many(path(sw.config, 'uplinkPortgroup'))) {
      const pg = pgByKey.get(ref(r)?.value ?? '');
      if (pg) pg.uplink = true;
    }
  }

  const placeholder = (uuid: string, line?: number): Sw => {
    let sw = swByUuid.get(uuid);
    if (!sw) {
      sw = { ref: `uuid:${uuid}`, name: uuid, uuid };
      switches.push(sw);
      swByRef.set(sw.ref, sw);
      swByUuid.set(uuid, sw);
      warn(`dvPorts of switch uuid ${uuid} but no such switch in the input: naming it by its uuid (add the dvSwitch objects)`, line);
    }
    return sw;
  };

  // Ports grouped per switch.
  const portsBySwitch = new Map<string, Array<{ port: Loose; line?: number; index: number }>>();
  snap.ports.forEach((p, index) => {
    const uuid = str(path(p.port, 'dvsUuid'));
    let sw = p.switchRef ? swByRef.get(p.switchRef) : undefined;
    if (!sw && uuid) sw = swByUuid.get(uuid) ?? placeholder(uuid, p.line);
    if (!sw) {
      warn(`a dvPort without dvsUuid (key ${str(path(p.port, 'key')) ?? '?'}) skipped`, p.line);
      return;
    }
    const list = portsBySwitch.get(sw.ref) ?? [];
    list.push({ port: p.port, line: p.line, index });
    portsBySwitch.set(sw.ref, list);
  });

  const outSwitches: DvSwitch[] = [];
  const outPortgroups: Portgroup[] = [];
  const vlans: PortgroupInventory['vlans'] = [];

  for (const sw of [...switches].sort((a, b) => a.name.localeCompare(b.name) || a.ref.localeCompare(b.ref))) {
    const myPgs = pgs.filter((p) => p.switchRef === sw.ref);
    const byPortKey = new Map<string, Pg[]>();
    for (const pg of myPgs) for (const k of pg.portKeys) byPortKey.set(k, [...(byPortKey.get(k) ?? []), pg]);
    const pgOf = (key: string | undefined): Pg | undefined => (key ? pgByKey.get(key) : undefined);

    const candidates: Candidate[] = [];
    const nonNumeric: string[] = [];
    let noPortgroup = 0;
    for (const { port: p, line, index } of portsBySwitch.get(sw.ref) ?? []) {
      const keyStr = str(path(p, 'key')) ?? '';
      if (!/^\d+$/.test(keyStr) || Number(keyStr) > 0xffffffff) {
        nonNumeric.push(keyStr || '(none)');
        continue;
      }
      const key = Number(keyStr);
      const pgKey = str(path(p, 'portgroupKey'));
      let pg = pgOf(pgKey);
      const viaKeys = [...(byPortKey.get(keyStr) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      let groups = pg ? [pg.name] : viaKeys.map((x) => x.name);
      if (!pg && viaKeys.length) pg = viaKeys[0];
      const backingNic = sw.uuid ? nicByPort.get(`${sw.uuid}/${keyStr}`) : undefined;
      if (!pg && backingNic) {
        pg = pgOf(backingNic.portgroupKey);
        if (pg) groups = [pg.name];
      }

      const dvPort: DvPort = { key, portgroup: pg?.name ?? '' };
      if (!pg) {
        noPortgroup++;
        if (pgKey) dvPort.portgroup = pgKey;
      }

      const connectee = one(path(p, 'connectee'));
      const cType = str(path(connectee, 'type'));
      const entity = ref(path(connectee, 'connectedEntity'));
      const nicKey = str(path(connectee, 'nicKey'));
      let kind = portKind(cType);
      let connected = !!cType || !!entity;
      if (kind === 'vm' || (entity && entity.type === 'VirtualMachine')) {
        kind = 'vm';
        const vm = entity ? vmByRef.get(entity.value) : undefined;
        const nic = vm && nicKey ? vm.nics.get(nicKey) : undefined;
        dvPort.vm = vm?.name ?? entity?.value;
        if (!vm && entity) warn(`switch ${sw.name}: dvPort ${key} is connected to ${entity.value}, which is not in the input (no VM name, vNIC or MAC)`, line);
        if (nic) {
          if (nic.label) dvPort.vnic = nic.label;
          if (nic.mac) dvPort.mac = nic.mac;
          if (nic.ips) dvPort.ips = nic.ips;
        } else {
          const hint = normalizeMac(str(path(connectee, 'addressHint')));
          if (hint) dvPort.mac = hint;
        }
      } else if (kind === 'uplink' || kind === 'vmknic') {
        if (entity) dvPort.vm = hostByRef.get(entity.value) ?? entity.value;
        if (nicKey) dvPort.vnic = nicKey;
        const att = backingNic && backingNic.vmRef === entity?.value ? backingNic : undefined;
        if (att?.mac) dvPort.mac = att.mac;
        if (att?.ips) dvPort.ips = att.ips;
      } else if (!connected && backingNic) {
        // No connectee (a port list without it), but a VM NIC backing or a host vmknic/uplink holds this port.
        kind = backingNic.kind;
        connected = true;
        dvPort.vm = backingNic.vm;
        if (backingNic.label) dvPort.vnic = backingNic.label;
        if (backingNic.mac) dvPort.mac = backingNic.mac;
        if (backingNic.ips) dvPort.ips = backingNic.ips;
      }
      if (pg?.uplink) kind = 'uplink';
      if (kind) dvPort.kind = kind;

      if (kind !== 'uplink') {
        const spec = path(p, 'config.setting.vlan');
        const v = isObj(one(spec)) ? accessVlan(spec) : pg?.vlan;
        if (v !== undefined) dvPort.vlan = v;
      }
      candidates.push({ key, index, line, port: dvPort, connected, groups });
    }

    // Ports that a VM NIC backing, a host vmknic or a host uplink names but the port list does not have.
    if (sw.uuid) {
      for (const [k, nic] of nicByPort) {
        if (!k.startsWith(`${sw.uuid}/`) || !nic.portKey || !/^\d+$/.test(nic.portKey)) continue;
        const key = Number(nic.portKey);
        if (candidates.some((c) => c.key === key)) continue;
        const pg = pgOf(nic.portgroupKey);
        const kind: DvPortKind = pg?.uplink ? 'uplink' : nic.kind;
        const dvPort: DvPort = { key, portgroup: pg?.name ?? nic.portgroupKey ?? '', vm: nic.vm, kind };
        if (nic.label) dvPort.vnic = nic.label;
        if (nic.mac) dvPort.mac = nic.mac;
        if (nic.ips) dvPort.ips = nic.ips;
        if (kind !== 'uplink' && pg?.vlan !== undefined) dvPort.vlan = pg.vlan;
        candidates.push({ key, index: Number.MAX_SAFE_INTEGER, port: dvPort, connected: true, groups: pg ? [pg.name] : [] });
      }
    }

    if (nonNumeric.length) {
      const distinct = [...new Set(nonNumeric)];
      warn(`switch ${sw.name}: ${nonNumeric.length} dvPort(s) with a non-numeric key skipped (${distinct.slice(0, 5).join(', ')}${distinct.length > 5 ? ', ...' : ''}); IPFIX interface numbers are numeric`, sw.line);
    }
    if (noPortgroup) warn(`switch ${sw.name}: ${noPortgroup} dvPort(s) in no known portgroup`, sw.line);

    // One entry per key: connected first, then one with a portgroup, then by portgroup name, then input order.
    const byKey = new Map<number, Candidate[]>();
    for (const c of candidates) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c]);
    const ports: DvPort[] = [];
    let dupWarnings = 0;
    for (const [key, list] of [...byKey].sort((a, b) => a[0] - b[0])) {
      if (list.length === 1) {
        const only = list[0]!;
        ports.push(only.port);
        if (only.groups.length > 1 && dupWarnings++ < MAX_KEY_WARNINGS) {
          warn(`switch ${sw.name}: dvPort key ${key} has no portgroupKey and is in the portKeys of ${only.groups.join(', ')}; placing it in ${only.port.portgroup}`, only.line ?? sw.line);
        }
        continue;
      }
      const sorted = [...list].sort(
        (a, b) =>
          Number(b.connected) - Number(a.connected) ||
          Number(!!b.port.portgroup) - Number(!!a.port.portgroup) ||
          a.port.portgroup.localeCompare(b.port.portgroup) ||
          a.index - b.index,
      );
      const kept = sorted[0]!;
      ports.push(kept.port);
      const same = list.every((c) => JSON.stringify(c.port) === JSON.stringify(kept.port));
      if (same) continue; // listed twice (e.g. two govc exports), same facts
      if (dupWarnings++ < MAX_KEY_WARNINGS) {
        const groups = [...new Set(list.flatMap((c) => (c.groups.length ? c.groups : [c.port.portgroup || '(none)'])))].sort().join(', ');
        warn(`switch ${sw.name}: dvPort key ${key} is listed ${list.length} times (portgroups ${groups}); keeping the one in ${kept.port.portgroup || '(none)'}${kept.connected ? ' (connected)' : ''}`, kept.line ?? sw.line);
      }
    }
    if (dupWarnings > MAX_KEY_WARNINGS) warn(`switch ${sw.name}: ${dupWarnings - MAX_KEY_WARNINGS} more duplicated dvPort keys`, sw.line);

    const config = sw.config;
    const switchIp = str(path(config, 'switchIpAddress')) || undefined;
    const ipfix = one(path(config, 'ipfixConfig'));
    let netflow: DvsNetflowSettings | undefined;
    if (isObj(ipfix) || switchIp) {
      netflow = {};
      const collector = str(path(ipfix, 'collectorIpAddress'));
      if (collector) netflow.collectorAddress = collector;
      const set = (k: keyof DvsNetflowSettings, v: number | undefined): void => {
        if (v !== undefined) (netflow as Record<string, unknown>)[k] = v;
      };
      set('collectorPort', num(path(ipfix, 'collectorPort')));
      if (switchIp) netflow.switchIp = switchIp;
      set('observationDomain', num(path(ipfix, 'observationDomainId')));
      set('samplingRate', num(path(ipfix, 'samplingRate')));
      set('activeTimeout', num(path(ipfix, 'activeFlowTimeout')));
      set('idleTimeout', num(path(ipfix, 'idleFlowTimeout')));
      const internal = bool(path(ipfix, 'internalFlowsOnly'));
      if (internal !== undefined) netflow.internalFlowsOnly = internal;
    }
    if (switchIp && !isIP(switchIp)) warn(`switch ${sw.name}: Switch IP ${JSON.stringify(switchIp)} is not an IP address`, sw.line);
    if (switchIp && isIP(switchIp)) addExporterName(switchIp, sw.name, sw.line);

    const out: DvSwitch = { name: sw.name, exporters: switchIp && isIP(switchIp) ? [switchIp] : [], ports, origin: { ...o.origin, ...(sw.line ? { line: sw.line } : {}) } };
    if (sw.uuid) out.uuid = sw.uuid;
    if (netflow) out.netflow = netflow;
    outSwitches.push(out);

    for (const pg of [...myPgs].sort((a, b) => a.name.localeCompare(b.name))) {
      const entry: Portgroup = { name: pg.name, switch: sw.name, kind: pg.uplink ? 'uplink' : 'vm', key: pg.ref };
      if (!pg.uplink && pg.vlan !== undefined) entry.vlan = pg.vlan;
      outPortgroups.push(entry);
      if (!pg.uplink && pg.vlan !== undefined && pg.vlan > 0) vlans.push({ vlan: pg.vlan, portgroup: pg.name, switch: sw.name });
    }
  }

  // Portgroups whose switch is not in the input.
  for (const pg of pgs.filter((p) => !p.switchRef || !swByRef.has(p.switchRef)).sort((a, b) => a.name.localeCompare(b.name))) {
    const entry: Portgroup = { name: pg.name, kind: pg.uplink ? 'uplink' : 'vm', key: pg.ref };
    if (!pg.uplink && pg.vlan !== undefined) entry.vlan = pg.vlan;
    outPortgroups.push(entry);
    if (!pg.uplink && pg.vlan !== undefined && pg.vlan > 0) vlans.push({ vlan: pg.vlan, portgroup: pg.name });
  }

  // A VLAN carried by two portgroups of one switch cannot tell them apart.
  const vlanSeen = new Map<string, string>();
  for (const v of vlans) {
    const k = `${v.switch ?? ''}/${v.vlan}`;
    const prev = vlanSeen.get(k);
    if (prev === undefined) vlanSeen.set(k, v.portgroup);
    else warn(`VLAN ${v.vlan}${v.switch ? ` on switch ${v.switch}` : ''} is the access VLAN of both ${prev} and ${v.portgroup}: the VLAN fallback picks ${prev}`);
  }

  const inventory: PortgroupInventory = { switches: outSwitches, portgroups: outPortgroups, vlans, cidrs: [] };
  if (exporterNames.length) inventory.exporterNames = exporterNames;
  return { inventory, warnings };
}

// ---- live vCenter ----

export interface VcenterOptions {
  /** https://vcenter.example.com (the /sdk path is added). Credentials in the URL are ignored. */
  url: string;
  user: string;
  password: string;
  /** Accept a self-signed certificate. */
  insecure?: boolean;
  signal?: AbortSignal;
  /** Per request; default 120 s. */
  timeoutMs?: number;
}

export interface VcenterResult {
  inventory: PortgroupInventory;
  warnings: ImportWarning[];
}

const DVS_TYPE = 'DistributedVirtualSwitch';
const PG_TYPE = 'DistributedVirtualPortgroup';

/**
 * One read of the dvSwitch inventory from vCenter over SOAP: RetrieveServiceContent, Login, a ContainerView of
 * switches, portgroups, VMs and hosts on the root folder, RetrievePropertiesEx, FetchDVPorts per switch, Logout.
 * Throws VsphereError (message without credentials) when vCenter cannot be read.
 */
export async function fetchVcenterInventory(opts: VcenterOptions): Promise<VcenterResult> {
  const client = new VsphereSoapClient({ url: opts.url, insecure: opts.insecure, signal: opts.signal, timeoutMs: opts.timeoutMs });
  const where = client.endpoint;
  try {
    await client.retrieveServiceContent();
    await client.login(opts.user, opts.password);
    try {
      const snap = emptySnapshot();
      const warnings: ImportWarning[] = [];
      const view = await client.createContainerView([DVS_TYPE, PG_TYPE, 'VirtualMachine', 'HostSystem']);
      let objects;
      try {
        objects = await client.retrieveFromView(view, [
          { type: DVS_TYPE, pathSet: ['name', 'uuid', 'config'] },
          { type: PG_TYPE, pathSet: ['name', 'key', 'config', 'portKeys', 'tag'] },
          { type: 'VirtualMachine', pathSet: ['name', 'config.hardware.device', 'guest.net'] },
          { type: 'HostSystem', pathSet: ['name', 'config.network.vnic', 'config.network.proxySwitch'] },
        ]);
      } finally {
        await client.destroyView(view).catch(() => undefined);
      }
      const dvsRefs: MoRef[] = [];
      const missing = new Map<string, { n: number; example: string }>();
      for (const oc of objects) {
        for (const m of oc.missing) {
          const k = `${oc.obj.type} ${m.path} (${m.fault})`;
          const e = missing.get(k) ?? { n: 0, example: oc.obj.value };
          e.n++;
          missing.set(k, e);
        }
        const p = (name: string): Loose | undefined => oc.props.get(name);
        const t = oc.obj.type;
        if (t === 'VirtualMachine') snap.vms.push({ ref: oc.obj.value, name: str(p('name')), devices: p('config.hardware.device'), guestNet: p('guest.net') });
        else if (t === 'HostSystem') snap.hosts.push({ ref: oc.obj.value, name: str(p('name')), vnics: p('config.network.vnic'), proxySwitches: p('config.network.proxySwitch') });
        else if (t === PG_TYPE || oc.props.has('portKeys')) snap.portgroups.push({ ref: oc.obj.value, name: str(p('name')), key: str(p('key')), config: p('config'), portKeys: p('portKeys'), tag: p('tag') });
        else {
          snap.switches.push({ ref: oc.obj.value, name: str(p('name')), uuid: str(p('uuid')), config: p('config') });
          dvsRefs.push(oc.obj);
        }
      }
      for (const [k, e] of missing) warnings.push({ file: where, line: 0, message: `${k}: not readable on ${e.n} object(s), e.g. ${e.example}` });
      for (const dvs of dvsRefs) {
        const ports = await client.fetchDVPorts(dvs);
        for (const port of ports) snap.ports.push({ port, switchRef: dvs.value });
      }
      const built = buildPortgroupInventory(snap, { origin: { kind: 'vcenter', name: where }, warnFile: where });
      return { inventory: built.inventory, warnings: [...warnings, ...built.warnings] };
    } finally {
      await client.logout();
    }
  } finally {
    await client.close();
  }
}

// ---- periodic sync ----

/** The subset of a pino logger the sync uses. */
export interface SyncLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface VcenterSyncOptions extends Omit<VcenterOptions, 'signal'> {
  /** Time between the end of one refresh and the start of the next; default 15 minutes. */
  intervalMs?: number;
  /** Called with each new inventory (not when a refresh fails: the last good one stays in force). */
  onInventory: (result: VcenterResult) => void;
  /** Called when a refresh fails; the message names vCenter, never the password. */
  onError?: (error: Error) => void;
  log?: SyncLogger;
  /** The fetch function; tests substitute it. */
  fetch?: (opts: VcenterOptions) => Promise<VcenterResult>;
}

/** Refreshes the vCenter inventory every intervalMs; keeps the last good result when a refresh fails. */
export class VcenterSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private good: (VcenterResult & { at: Date }) | undefined;
  private error: Error | undefined;
  readonly url: string;

  constructor(private readonly opts: VcenterSyncOptions) {
    this.url = displayUrl(opts.url);
  }

  /** The last inventory read successfully, if any. */
  get last(): (VcenterResult & { at: Date }) | undefined {
    return this.good;
  }

  /** The error of the latest refresh, undefined after a success. */
  get lastError(): Error | undefined {
    return this.error;
  }

  /** First refresh now, then one every intervalMs. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the timer and aborts a refresh in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh().finally(() => this.schedule(this.opts.intervalMs ?? 15 * 60_000));
    }, ms);
    this.timer.unref?.();
  }

  /** One refresh now (a refresh already in flight is joined). Resolves true when it produced a new inventory. */
  refresh(): Promise<boolean> {
    if (this.running) return this.running;
    const run = async (): Promise<boolean> => {
      const abort = new AbortController();
      this.abort = abort;
      const fetcher = this.opts.fetch ?? fetchVcenterInventory;
      const started = Date.now();
      try {
        const result = await fetcher({
          url: this.opts.url,
          user: this.opts.user,
          password: this.opts.password,
          insecure: this.opts.insecure,
          timeoutMs: this.opts.timeoutMs,
          signal: abort.signal,
        });
        if (abort.signal.aborted) return false; // stop() came first
        this.good = { ...result, at: new Date() };
        this.error = undefined;
        const inv = result.inventory;
        this.opts.log?.info(
          { vcenter: this.url, ms: Date.now() - started, switches: inv.switches.length, ports: inv.switches.reduce((n, s) => n + s.ports.length, 0), portgroups: inv.portgroups.length, warnings: result.warnings.length },
          'vCenter inventory refreshed',
        );
        for (const w of result.warnings.slice(0, 20)) this.opts.log?.warn({ vcenter: this.url }, w.message);
        this.opts.onInventory(result);
        return true;
      } catch (e) {
        if (abort.signal.aborted) return false; // aborted by stop(): not a failure worth reporting
        const err = e instanceof Error ? e : new Error(String(e));
        const safe = new Error(redactSecret(err.message, this.opts.password));
        safe.name = err.name;
        this.error = safe;
        this.opts.log?.error(
          { vcenter: this.url, err: safe.message, keeping: this.good ? this.good.at.toISOString() : null },
          this.good ? 'vCenter refresh failed; keeping the last good inventory' : 'vCenter refresh failed; no inventory from vCenter yet',
        );
        this.opts.onError?.(safe);
        return false;
      } finally {
        this.running = undefined;
        this.abort = undefined;
      }
    };
    this.running = run();
    return this.running;
  }
}

function redactSecret(message: string, secret: string): string {
  if (!secret) return message;
  let m = message;
  for (const form of new Set([secret, encodeURIComponent(secret)])) m = m.split(form).join('***');
  return m;
}
