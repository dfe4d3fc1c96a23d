// The flow-based IDS detectors and their configuration: `createFlowDetectors(config)` makes the enabled ones with
// DEFAULTS for whatever the config leaves out. Every detector runs on event time (flow first/last), in sliding
// windows, with a cap on the keys it tracks; the header of each module names the sources of its defaults.
import type { FlowDetector } from '../idsTypes.ts';
import { BRUTE_FORCE_DEFAULTS, BruteForceDetector, type BruteForceConfig, type BruteForceRule } from './bruteForce.ts';
import type { FloodConfig } from './floodDetector.ts';
import { HOST_SWEEP_DEFAULTS, HostSweepDetector, type HostSweepConfig } from './hostSweep.ts';
import { createIcmpFloodDetector, ICMP_FLOOD_DEFAULTS } from './icmpFlood.ts';
import { LAND_DEFAULTS, LandDetector, type LandConfig } from './landAttack.ts';
import { PORT_SCAN_DEFAULTS, PortScanDetector, type PortScanConfig } from './portScan.ts';
import { createSynFloodDetector, SYN_FLOOD_DEFAULTS } from './synFlood.ts';
import { TCP_FLAGS_DEFAULTS, TcpFlagsDetector, type TcpFlagsConfig } from './tcpFlags.ts';
import { TRW_SCAN_DEFAULTS, TrwScanDetector, type TrwScanConfig } from './trwScan.ts';
import { createUdpFloodDetector, UDP_FLOOD_DEFAULTS } from './udpFlood.ts';
import { VIP_DDOS_DEFAULTS, VipDdosDetector, type VipDdosConfig } from './vipDdos.ts';

export type { BruteForceConfig, BruteForceRule } from './bruteForce.ts';
export type { FloodConfig } from './floodDetector.ts';
export type { HostSweepConfig } from './hostSweep.ts';
export type { LandConfig } from './landAttack.ts';
export type { PortScanConfig } from './portScan.ts';
export type { TcpFlagsConfig } from './tcpFlags.ts';
export type { TrwScanConfig } from './trwScan.ts';
export type { VipDdosConfig } from './vipDdos.ts';

/** One entry per detector; each has `enabled` and its thresholds (see the detector's module for their sources). */
export interface FlowDetectorsConfig {
  /** `port-scan`: one source, many ports of one host (Zeek: 15 ports in 5 min). */
  portScan: PortScanConfig;
  /** `host-sweep`: one source, one port, many hosts (Zeek: 25 hosts in 5 min). */
  hostSweep: HostSweepConfig;
  /** `trw-scan`: Threshold Random Walk on first contacts (Jung et al. 2004: θ0 0.8, θ1 0.2, PD 0.99, PF 0.01). */
  trwScan: TrwScanConfig;
  /** `syn-flood`: SYN packets without ACK to one host and port (1,000 in 10 s). */
  synFlood: FloodConfig;
  /** `udp-flood`: UDP packets to one host (100,000 in 10 s: FastNetMon's 10,000/s). */
  udpFlood: FloodConfig;
  /** `icmp-flood`: ICMP packets to one host (1,000 in 10 s). */
  icmpFlood: FloodConfig;
  /** `vip-ddos`: a VIP far above its own EWMA baseline (10×, with floors, after a 15-minute warm-up). */
  vipDdos: VipDdosConfig;
  /** `brute-force`: short connections to a login port of one host (ssh 10 in 120 s, rdp 20 in 360 s ...). */
  bruteForce: BruteForceConfig;
  /** `tcp-flags`: null, SYN+FIN, Xmas and FIN flows without ACK. */
  tcpFlags: TcpFlagsConfig;
  /** `land`: same address and port at both ends. */
  land: LandConfig;
}

/** What a caller may give: any detector, any of its fields; the rest comes from DEFAULTS. */
export type FlowDetectorsOverrides = { [K in keyof FlowDetectorsConfig]?: Partial<FlowDetectorsConfig[K]> };

export const DEFAULTS: Readonly<{ [K in keyof FlowDetectorsConfig]: Readonly<FlowDetectorsConfig[K]> }> = {
  portScan: PORT_SCAN_DEFAULTS,
  hostSweep: HOST_SWEEP_DEFAULTS,
  trwScan: TRW_SCAN_DEFAULTS,
  synFlood: SYN_FLOOD_DEFAULTS,
  udpFlood: UDP_FLOOD_DEFAULTS,
  icmpFlood: ICMP_FLOOD_DEFAULTS,
  vipDdos: VIP_DDOS_DEFAULTS,
  bruteForce: BRUTE_FORCE_DEFAULTS,
  tcpFlags: TCP_FLAGS_DEFAULTS,
  land: LAND_DEFAULTS,
};

/** DEFAULTS with the given fields replaced (copies: changing the result does not change DEFAULTS). */
export function resolveFlowDetectorsConfig(config: FlowDetectorsOverrides = {}): FlowDetectorsConfig {
  return {
    portScan: { ...DEFAULTS.portScan, ...config.portScan },
    hostSweep: { ...DEFAULTS.hostSweep, ...config.hostSweep },
    trwScan: { ...DEFAULTS.trwScan, ...config.trwScan },
    synFlood: { ...DEFAULTS.synFlood, ...config.synFlood },
    udpFlood: { ...DEFAULTS.udpFlood, ...config.udpFlood },
    icmpFlood: { ...DEFAULTS.icmpFlood, ...config.icmpFlood },
    vipDdos: { ...DEFAULTS.vipDdos, ...config.vipDdos },
    bruteForce: { ...DEFAULTS.bruteForce, ...config.bruteForce, rules: copyRules(config.bruteForce?.rules ?? DEFAULTS.bruteForce.rules) },
    tcpFlags: { ...DEFAULTS.tcpFlags, ...config.tcpFlags },
    land: { ...DEFAULTS.land, ...config.land },
  };
}

function copyRules(rules: readonly BruteForceRule[]): BruteForceRule[] {
  return rules.map((r) => ({ ...r, ports: [...r.ports] }));
}

/** The enabled flow detectors, configured (DEFAULTS where `config` says nothing). */
export function createFlowDetectors(config: FlowDetectorsOverrides = {}): FlowDetector[] {
  const c = resolveFlowDetectorsConfig(config);
  validate(c);
  const made: Array<FlowDetector | null> = [
    c.portScan.enabled ? new PortScanDetector(c.portScan) : null,
    c.hostSweep.enabled ? new HostSweepDetector(c.hostSweep) : null,
    c.trwScan.enabled ? new TrwScanDetector(c.trwScan) : null,
    c.synFlood.enabled ? createSynFloodDetector(c.synFlood) : null,
    c.udpFlood.enabled ? createUdpFloodDetector(c.udpFlood) : null,
    c.icmpFlood.enabled ? createIcmpFloodDetector(c.icmpFlood) : null,
    c.vipDdos.enabled ? new VipDdosDetector(c.vipDdos) : null,
    c.bruteForce.enabled ? new BruteForceDetector(c.bruteForce) : null,
    c.tcpFlags.enabled ? new TcpFlagsDetector(c.tcpFlags) : null,
    c.land.enabled ? new LandDetector(c.land) : null,
  ];
  return made.filter((d): d is FlowDetector => d !== null);
}

/** A threshold of 0 or a window of 0 would alert on everything or nothing: say so at start-up instead. */
function validate(c: FlowDetectorsConfig): void {
  const positive: Array<[string, number]> = [
    ['portScan.distinctPorts', c.portScan.distinctPorts], ['portScan.windowSec', c.portScan.windowSec],
    ['hostSweep.distinctHosts', c.hostSweep.distinctHosts], ['hostSweep.windowSec', c.hostSweep.windowSec],
    ['trwScan.stateTtlSec', c.trwScan.stateTtlSec], ['trwScan.maxContactsPerSource', c.trwScan.maxContactsPerSource],
    ['synFlood.minPackets', c.synFlood.minPackets], ['synFlood.windowSec', c.synFlood.windowSec],
    ['udpFlood.minPackets', c.udpFlood.minPackets], ['udpFlood.windowSec', c.udpFlood.windowSec],
    ['icmpFlood.minPackets', c.icmpFlood.minPackets], ['icmpFlood.windowSec', c.icmpFlood.windowSec],
    ['vipDdos.factor', c.vipDdos.factor], ['vipDdos.baselineMinutes', c.vipDdos.baselineMinutes],
    ['vipDdos.forgetAfterMinutes', c.vipDdos.forgetAfterMinutes],
    ['bruteForce.maxPacketsPerAttempt', c.bruteForce.maxPacketsPerAttempt],
    ['tcpFlags.minFlows', c.tcpFlags.minFlows], ['tcpFlags.windowSec', c.tcpFlags.windowSec], ['land.windowSec', c.land.windowSec],
  ];
  for (const r of c.bruteForce.rules) {
    positive.push([`bruteForce.rules[${r.service}].attempts`, r.attempts], [`bruteForce.rules[${r.service}].windowSec`, r.windowSec]);
  }
  for (const [name, v] of positive) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`flow detector setting ${name} must be a positive number, got ${v}`);
  }
  const t = c.trwScan;
  if (!(t.theta1 > 0 && t.theta1 < t.theta0 && t.theta0 < 1)) {
    throw new RangeError(`trwScan needs 0 < theta1 < theta0 < 1, got theta0 ${t.theta0}, theta1 ${t.theta1}`);
  }
  if (!(t.falsePositiveProbability > 0 && t.falsePositiveProbability < t.detectionProbability && t.detectionProbability < 1)) {
    throw new RangeError('trwScan needs 0 < falsePositiveProbability < detectionProbability < 1');
  }
}
