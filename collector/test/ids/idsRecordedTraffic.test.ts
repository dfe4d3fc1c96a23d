// The IDS on traffic made by real tools: captures recorded on lo while nmap, hping3 and a burst of failed SSH logins
// ran (collector/test/fixtures/ids/record-captures.sh), and benign HTTP, DNS and SSH sessions. Each capture goes
// through both paths dvflow has: the capture path (reader → decoder → flow table, with the packet detectors) and
// the NetFlow path (softflowd exports the same capture as IPFIX to a real UDP collector socket). The detectors that
// must fire do, and nothing outside the manifest's allowed set fires; benign captures raise nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { recordedIdsCaptures, type IdsCapture } from '../helpers/idsCaptures.ts';
import { freeUdpPort, runSoftflowd, stopAllPeers, waitStable } from '../helpers/peers.ts';
import { ingestCapture } from '../../src/pcap/ingestCapture.ts';
import { NetflowCollector } from '../../src/collector/netflowCollector.ts';
import { TemplateCache } from '../../src/decoders/templateCache.ts';
import { ExporterRegistry } from '../../src/collector/exporterRegistry.ts';
import { createCollectorMetrics } from '../../src/collector/collectorMetrics.ts';
import { createFlowDetectors, DEFAULTS as FLOW_DEFAULTS } from '../../src/ids/flow/index.ts';
import { createPacketDetectors } from '../../src/ids/packet/index.ts';
import { AlertManager } from '../../src/ids/alertManager.ts';
import { IdsEngine } from '../../src/ids/idsEngine.ts';
import type { FlowRecord } from '../../src/flow/flowRecord.ts';

let captures: { dir: string; list: IdsCapture[] } | null = null;
/** The default detectors, but sshd on the port the recording used when 22 was taken (as an admin would configure). */
let sshPort = 22;
let skip: string | false = false;

before(async () => {
  const r = await recordedIdsCaptures();
  if ('skip' in r) skip = r.skip;
  else {
    captures = { dir: r.dir, list: r.manifest.captures };
    sshPort = r.manifest.captures.find((c) => c.file === 'ssh-bruteforce.pcap')?.ports.target ?? 22;
  }
});
after(() => stopAllPeers());

/** A fresh engine with the default detectors; returns it and the set of detectors that raised alerts. */
function engine(): { engine: IdsEngine; raised: Set<string>; summaries: string[] } {
  const raised = new Set<string>();
  const summaries: string[] = [];
  const alerts = new AlertManager({ write: async () => {}, flushMs: 0, onRaised: (a) => { raised.add(a.detector); summaries.push(`${a.detector}: ${a.summary}`); } });
  const rules = FLOW_DEFAULTS.bruteForce.rules.map((x) => (x.service === 'ssh' && !x.ports.includes(sshPort) ? { ...x, ports: [...x.ports, sshPort] } : x));
  return { engine: new IdsEngine(createFlowDetectors({ bruteForce: { rules } }), createPacketDetectors(), alerts), raised, summaries };
}

async function viaCapture(file: string) {
  const e = engine();
  const hook = e.engine.packetHook(file);
  await ingestCapture(file, { onRecords: (records) => e.engine.onFlows(records), onPacket: hook ?? undefined });
  e.engine.finishCapture(file);
  return e;
}

async function viaNetflow(file: string) {
  const e = engine();
  const port = await freeUdpPort();
  const records: FlowRecord[] = [];
  const collector = new NetflowCollector({
    port, bind: '127.0.0.1', receiveBuffer: 8 << 20, keyByPort: true, samplingDefault: 1, samplingExporters: [], templates: new TemplateCache(),
    exporters: new ExporterRegistry(true), metrics: createCollectorMetrics(), log: pino({ level: 'silent' }),
    onRecords: (r) => {
      records.push(...r);
      e.engine.onFlows(r);
    },
  });
  await collector.start();
  try {
    await runSoftflowd(file, port, 10);
    await waitStable(() => records.length, 500, 20_000);
  } finally {
    await collector.close();
  }
  return { ...e, flows: records.length };
}

function check(c: IdsCapture, raised: Set<string>, path: string, summaries: string[]): void {
  for (const d of c.expect) assert.ok(raised.has(d), `${c.file} via ${path}: expected ${d}; raised ${[...raised].join(', ') || 'nothing'}`);
  const allowed = new Set([...c.expect, ...c.allow]);
  const extra = [...raised].filter((d) => !allowed.has(d as never));
  assert.deepEqual(extra, [], `${c.file} via ${path}: unexpected ${extra.join(', ')}\n${summaries.join('\n')}`);
}

test('each recorded capture raises its alerts through the capture path (flows and packets)', async (t) => {
  if (skip || !captures) return t.skip(String(skip));
  for (const c of captures.list) {
    const e = await viaCapture(join(captures.dir, c.file));
    check(c, e.raised, 'pcap', e.summaries);
  }
});

test('and through the NetFlow path: softflowd exports the same capture as IPFIX to a real collector socket', async (t) => {
  if (skip || !captures) return t.skip(String(skip));
  for (const c of captures.list) {
    const e = await viaNetflow(join(captures.dir, c.file));
    assert.ok(e.flows > 0, `${c.file}: softflowd exported flows`);
    // Packet-level detections (invalid packets) need the packets: NetFlow cannot carry them.
    check({ ...c, expect: c.expect.filter((d) => d !== 'invalid-packet') }, e.raised, 'netflow', e.summaries);
  }
});

test('benign captures raise nothing on either path', async (t) => {
  if (skip || !captures) return t.skip(String(skip));
  const benign = captures.list.filter((c) => c.expect.length === 0 && c.allow.length === 0);
  assert.ok(benign.length >= 3, 'HTTP, DNS and SSH sessions were recorded');
  for (const c of benign) {
    const a = await viaCapture(join(captures.dir, c.file));
    assert.deepEqual([...a.raised], [], `${c.file} via pcap: ${a.summaries.join('; ')}`);
    const b = await viaNetflow(join(captures.dir, c.file));
    assert.deepEqual([...b.raised], [], `${c.file} via netflow: ${b.summaries.join('; ')}`);
  }
});
