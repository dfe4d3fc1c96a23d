// dvSwitch inventory from govc's JSON output, for an admin who exports once instead of giving dvflow vCenter
// credentials. One file holds the output of these commands, appended one after the other (govc prints one JSON
// document per command, and object.collect one per object; all of them can simply be concatenated):
//
//   export GOVC_URL=https://vcenter.example.com GOVC_USERNAME=... GOVC_PASSWORD=... # GOVC_INSECURE=1 if self-signed
//   # the dvSwitches: name, uuid, config (Switch IP, IPFIX settings, uplink portgroups)
//   govc object.collect -json -type w / name uuid config > dvs-inventory.json
//   # the portgroups: name, key, config (switch, default VLAN, uplink flag), portKeys, tag
//   govc object.collect -json -type g / name key config portKeys tag >> dvs-inventory.json
//   # the VMs: name, NICs (label, MAC, dvPort key in the backing), guest addresses (VMware Tools)
//   govc object.collect -json -type m / name config.hardware.device guest.net >> dvs-inventory.json
//   # the hosts: name, vmknics (address, dvPort), uplinks (proxySwitch pnic → uplink dvPort)
//   govc object.collect -json -type h / name config.network.vnic config.network.proxySwitch >> dvs-inventory.json
//   # optional, per dvSwitch: the dvPorts themselves (per-port VLAN overrides, free ports). FetchDVPorts' criteria
//   # are filters both ways and govc sets them all (default: not connected, not active, not uplink), so list every
//   # combination:
//   for dvs in $(govc find / -type DistributedVirtualSwitch); do
//     for c in true false; do for a in true false; do for u in true false; do
//       govc dvs.portgroup.info -json -connected=$c -active=$a -uplinkPort=$u "$dvs"
//     done; done; done
//   done >> dvs-inventory.json
//
// (There is no `govc dvs.port.ls`; dvs.portgroup.info is govc's FetchDVPorts.) Without the dvs.portgroup.info
// part the dvPorts come from the owners' side: each VM NIC backing, host vmknic and host uplink names its dvPort
// key. `jq -s . dvs-inventory.json` (one JSON array of the same documents) is accepted too, and so are the VI/JSON
// API's spellings (camelCase keys, `_typeName`/`_value`). Keys are matched whatever the case of their first letter:
// govc from govmomi < 0.30 prints Go field names (`PortgroupKey`), later ones the WSDL's (`portgroupKey`).
//
// The mapping itself (dvPort key → portgroup, VM, vNIC, MAC, VLAN; NetFlow settings) is vcenterInventory.ts's
// buildPortgroupInventory, shared with the live vCenter sync.
import { ImportError, type ImportWarning, type PortgroupInventory } from './inventoryModel.ts';
import type { Loose, LooseObject } from './vcenter/soapClient.ts';
import { buildPortgroupInventory, emptySnapshot, isObj, many, path, ref, str, type VsphereSnapshot } from './vcenter/vcenterInventory.ts';

interface JsonDoc {
  value: unknown;
  line: number;
}

/**
 * Splits text holding one or more JSON documents (concatenated, whitespace between) into documents with their
 * 1-based starting line. Only finds the boundaries; JSON.parse does the parsing.
 */
export function splitJsonDocuments(text: string, file: string): JsonDoc[] {
  const docs: JsonDoc[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c !== '{' && c !== '[') throw new ImportError(file, line, `expected a JSON object or array, found ${JSON.stringify(text.slice(i, i + 20))}`);
    const start = i;
    const startLine = line;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const ch = text[i]!;
      if (ch === '\n') line++;
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
    if (depth !== 0) throw new ImportError(file, startLine, 'unterminated JSON document (truncated output?)');
    try {
      docs.push({ value: JSON.parse(text.slice(start, i)), line: startLine });
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const errLine = pos ? startLine + (text.slice(start, start + Number(pos[1])).match(/\n/g)?.length ?? 0) : startLine;
      throw new ImportError(file, errLine, `invalid JSON${pos ? '' : ' in the document starting here'}: ${msg.split('\n')[0]}`);
    }
  }
  return docs;
}

/** Whether text looks like govc output (one or more JSON documents in govc's shapes) rather than our own format. */
export function looksLikeGovcJson(text: string): boolean {
  const t = text.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  let docs: JsonDoc[];
  try {
    docs = splitJsonDocuments(t, '');
  } catch {
    return false;
  }
  const first = docs[0]?.value;
  const probe = Array.isArray(first) ? first[0] : first;
  if (!probe || typeof probe !== 'object') return Array.isArray(first);
  const keys = Object.keys(probe).map(lowerFirst);
  return keys.includes('port') || keys.includes('obj') || keys.includes('changeSet') || (keys.includes('key') && keys.includes('dvsUuid')) || keys.includes('name') && keys.includes('op');
}

function lowerFirst(k: string): string {
  return k.length && k[0]! >= 'A' && k[0]! <= 'Z' ? k[0]!.toLowerCase() + k.slice(1) : k;
}

/** JSON → Loose with WSDL-style keys (first letter lower case). */
function normalize(v: unknown): Loose {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object') {
    const out: LooseObject = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[lowerFirst(k)] = normalize(x);
    return out;
  }
  return null;
}

const SWITCH_TYPES = new Set(['DistributedVirtualSwitch', 'VmwareDistributedVirtualSwitch']);

/** Parses govc JSON output (see the header for the commands) into dvflow's portgroup inventory. */
export function parseGovcJson(text: string, file: string): { inventory: PortgroupInventory; warnings: ImportWarning[] } {
  const docs = splitJsonDocuments(text, file);
  if (!docs.length) throw new ImportError(file, 1, 'no JSON document in the file');
  const warnings: ImportWarning[] = [];
  const snap: VsphereSnapshot = emptySnapshot();

  // Objects by reference: properties from several documents (several object.collect runs) are merged.
  const objects = new Map<string, { type: string; props: Map<string, Loose>; line: number }>();
  const ignoredTypes = new Map<string, number>();
  let recognized = 0;

  const addObject = (type: string, value: string, props: Array<[string, Loose]>, line: number): void => {
    const k = `${type}:${value}`;
    const o = objects.get(k) ?? { type, props: new Map<string, Loose>(), line };
    for (const [name, val] of props) o.props.set(name, val);
    objects.set(k, o);
  };

  const visit = (v: Loose, line: number, depth: number): void => {
    if (Array.isArray(v)) {
      if (depth > 2) return;
      // A bare ChangeSet array: `govc object.collect -json OBJ PROP` without -type; the object is unknown.
      if (v.length && v.every((x) => isObj(x) && 'op' in x && 'name' in x && !('obj' in x))) {
        warnings.push({ file, line, message: 'a property list without its object (govc object.collect without -type): skipped; use the commands in the documentation' });
        return;
      }
      for (const x of v) visit(x, line, depth + 1);
      return;
    }
    if (!isObj(v)) {
      warnings.push({ file, line, message: 'a JSON value that is not an object: skipped' });
      return;
    }
    // govc dvs.portgroup.info -json: {"Port": [DistributedVirtualPort...]}
    if ('port' in v && (Array.isArray(v.port) || v.port === null)) {
      recognized++;
      for (const p of many(v.port)) snap.ports.push({ port: p, line });
      return;
    }
    // A bare DistributedVirtualPort (VI/JSON FetchDVPorts answer, or jq-extracted).
    if ('key' in v && 'dvsUuid' in v) {
      recognized++;
      snap.ports.push({ port: v, line });
      return;
    }
    // govc object.collect -json -type ...: ObjectUpdate {Kind, Obj, ChangeSet: [{Name, Op, Val}]};
    // ObjectContent {Obj, PropSet: [{Name, Val}]} from other tools.
    const obj = ref(v.obj);
    if (obj && ('changeSet' in v || 'propSet' in v)) {
      recognized++;
      const props: Array<[string, Loose]> = [];
      for (const c of many(v.changeSet ?? v.propSet)) {
        const name = str(path(c, 'name'));
        const op = str(path(c, 'op'));
        if (!name || op === 'remove' || op === 'indirectRemove') continue;
        const val = isObj(c) ? c.val : undefined;
        props.push([name, val === undefined ? null : val]);
      }
      addObject(obj.type, obj.value, props, line);
      return;
    }
    warnings.push({ file, line, message: `a JSON document govc's dvs.portgroup.info / object.collect -type do not print (keys ${Object.keys(v).slice(0, 5).join(', ')}): skipped` });
  };

  for (const d of docs) visit(normalize(d.value), d.line, 0);
  if (!recognized) throw new ImportError(file, docs[0]!.line, 'no govc output recognised: expected `govc object.collect -json -type ...` or `govc dvs.portgroup.info -json` documents');

  for (const [k, o] of objects) {
    const value = k.slice(o.type.length + 1);
    const p = (name: string): Loose | undefined => o.props.get(name);
    if (SWITCH_TYPES.has(o.type)) snap.switches.push({ ref: value, name: str(p('name')), uuid: str(p('uuid')), config: p('config'), line: o.line });
    else if (o.type === 'DistributedVirtualPortgroup') snap.portgroups.push({ ref: value, name: str(p('name')), key: str(p('key')), config: p('config'), portKeys: p('portKeys'), tag: p('tag'), line: o.line });
    else if (o.type === 'VirtualMachine') snap.vms.push({ ref: value, name: str(p('name')), devices: p('config.hardware.device'), guestNet: p('guest.net'), line: o.line });
    else if (o.type === 'HostSystem') snap.hosts.push({ ref: value, name: str(p('name')), vnics: p('config.network.vnic'), proxySwitches: p('config.network.proxySwitch'), line: o.line });
    else ignoredTypes.set(o.type, (ignoredTypes.get(o.type) ?? 0) + 1);
  }
  for (const [t, count] of ignoredTypes) warnings.push({ file, line: 0, message: `${count} ${t} object(s) ignored (not used for the dvSwitch inventory)` });
  if (!snap.switches.length && !snap.ports.length) {
    warnings.push({ file, line: 0, message: 'no dvSwitch in the file: add `govc object.collect -json -type w / name uuid config`' });
  }

  const built = buildPortgroupInventory(snap, { origin: { kind: 'govc', name: file }, warnFile: file });
  return { inventory: built.inventory, warnings: [...warnings, ...built.warnings] };
}
