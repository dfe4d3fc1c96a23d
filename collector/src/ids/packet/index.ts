// The packet-level IDS detectors (captures only: they need the packets, not flows) and their configuration:
// `createPacketDetectors(config)` makes the enabled ones with DEFAULTS for whatever the config leaves out.
// Each runs on packet time, keeps bounded state, returns early on the ordinary TCP/UDP packet, and reports one
// alert per subject and report window (reportWindow.ts) rather than one per packet. The header of each module
// explains its checks and the sources of its defaults.
import type { PacketDetector } from '../idsTypes.ts';
import { ARP_CONFLICT_DEFAULTS, ArpConflictDetector, type ArpConflictConfig } from './arpConflict.ts';
import { INVALID_PACKET_DEFAULTS, InvalidPacketDetector, type InvalidPacketConfig } from './invalidPacket.ts';
import { VRRP_FLAP_DEFAULTS, VrrpFlapDetector, type VrrpFlapConfig } from './vrrpFlap.ts';

export { ARP_CONFLICT_DETECTOR_ID, ArpConflictDetector, type ArpConflictConfig } from './arpConflict.ts';
export {
  INVALID_PACKET_DETECTOR_ID, InvalidPacketDetector, type InvalidPacketConfig, type InvalidReason, type IpCheckReason,
} from './invalidPacket.ts';
export { VRRP_FLAP_DETECTOR_ID, VrrpFlapDetector, type VrrpFlapConfig } from './vrrpFlap.ts';

export interface PacketDetectorsConfig {
  /**
   * `invalid-packet`: malformed packets (the decoder's reasons), IPv4 header checksum, evil bit, TTL 0, impossible,
   * tiny and overlapping fragments, SYN+RST; per (capture, source, reason) every 60 s. TCP/UDP checksums off.
   */
  invalidPacket: InvalidPacketConfig;
  /** `arp-conflict`: two MACs answering for one IPv4 address (high), or the MAC of an address changing (low). */
  arpConflict: ArpConflictConfig;
  /** `vrrp-flap`: VRRP master changes (info), flapping (> 3 in 5 min, high), split brain (high), priority changes. */
  vrrpFlap: VrrpFlapConfig;
}

/** What a caller may give: any detector, any of its fields; the rest comes from DEFAULTS. */
export type PacketDetectorsOverrides = { [K in keyof PacketDetectorsConfig]?: Partial<PacketDetectorsConfig[K]> };

export const DEFAULTS: Readonly<{ [K in keyof PacketDetectorsConfig]: Readonly<PacketDetectorsConfig[K]> }> = Object.freeze({
  invalidPacket: INVALID_PACKET_DEFAULTS,
  arpConflict: ARP_CONFLICT_DEFAULTS,
  vrrpFlap: VRRP_FLAP_DEFAULTS,
});

/** DEFAULTS with the given fields replaced (copies: changing the result does not change DEFAULTS). */
export function resolvePacketDetectorsConfig(config: PacketDetectorsOverrides = {}): PacketDetectorsConfig {
  return {
    invalidPacket: {
      ...DEFAULTS.invalidPacket, ...config.invalidPacket, ignore: [...(config.invalidPacket?.ignore ?? DEFAULTS.invalidPacket.ignore)],
    },
    arpConflict: { ...DEFAULTS.arpConflict, ...config.arpConflict },
    vrrpFlap: { ...DEFAULTS.vrrpFlap, ...config.vrrpFlap },
  };
}

/** The enabled packet detectors, configured (DEFAULTS where `config` says nothing). */
export function createPacketDetectors(config: PacketDetectorsOverrides = {}): PacketDetector[] {
  const c = resolvePacketDetectorsConfig(config);
  validate(c);
  const made: Array<PacketDetector | null> = [
    c.invalidPacket.enabled ? new InvalidPacketDetector(c.invalidPacket) : null,
    c.arpConflict.enabled ? new ArpConflictDetector(c.arpConflict) : null,
    c.vrrpFlap.enabled ? new VrrpFlapDetector(c.vrrpFlap) : null,
  ];
  return made.filter((d): d is PacketDetector => d !== null);
}

/** A window or cap of 0 would report everything at once or keep nothing: say so at start-up instead. */
function validate(c: PacketDetectorsConfig): void {
  const positive: Array<[string, number]> = [
    ['invalidPacket.reportWindowSec', c.invalidPacket.reportWindowSec], ['invalidPacket.maxReports', c.invalidPacket.maxReports],
    ['invalidPacket.fragmentTimeoutSec', c.invalidPacket.fragmentTimeoutSec], ['invalidPacket.maxDatagrams', c.invalidPacket.maxDatagrams],
    ['invalidPacket.maxFragmentsPerDatagram', c.invalidPacket.maxFragmentsPerDatagram],
    ['arpConflict.replyPairMs', c.arpConflict.replyPairMs], ['arpConflict.minFlips', c.arpConflict.minFlips],
    ['arpConflict.flipWindowSec', c.arpConflict.flipWindowSec], ['arpConflict.memorySec', c.arpConflict.memorySec],
    ['arpConflict.reportWindowSec', c.arpConflict.reportWindowSec], ['arpConflict.maxReports', c.arpConflict.maxReports],
    ['arpConflict.maxAddresses', c.arpConflict.maxAddresses],
    ['vrrpFlap.maxChanges', c.vrrpFlap.maxChanges], ['vrrpFlap.flapWindowSec', c.vrrpFlap.flapWindowSec],
    ['vrrpFlap.splitBrainAlternations', c.vrrpFlap.splitBrainAlternations], ['vrrpFlap.reportWindowSec', c.vrrpFlap.reportWindowSec],
    ['vrrpFlap.maxReports', c.vrrpFlap.maxReports], ['vrrpFlap.maxRouters', c.vrrpFlap.maxRouters],
    ['vrrpFlap.forgetAfterSec', c.vrrpFlap.forgetAfterSec],
  ];
  for (const [name, v] of positive) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`packet detector setting ${name} must be a positive number, got ${v}`);
  }
}
