// Builds the IDS the daemon runs from the `ids` section of the config: the flow and packet detectors with their
// settings (`ids.detectors.<detector>.<setting>`, checked against the defaults so a typo is an error, not a silent
// default), the Snort/Suricata rule files, the user rules and the outputs.
import type { Logger } from 'pino';
import type { DvflowConfig } from '../config/config.ts';
import { createFlowDetectors, DEFAULTS as FLOW_DEFAULTS, type FlowDetectorsOverrides } from './flow/index.ts';
import { createPacketDetectors, DEFAULTS as PACKET_DEFAULTS, type PacketDetectorsOverrides } from './packet/index.ts';
import { createRuleDetector } from './rules/ruleLoader.ts';
import type { RuleLoadStats } from './rules/ruleLoader.ts';
import { IdsService, type IdsStore } from './idsService.ts';
import { UserRuleStore } from './userRuleStore.ts';
import type { PacketDetector } from './idsTypes.ts';

export class IdsConfigError extends Error {
  override name = 'IdsConfigError';
}

type Settings = Record<string, Record<string, unknown>>;

/** Splits `ids.detectors` into flow and packet settings, refusing unknown detectors and settings. */
export function detectorSettings(detectors: Settings): { flow: FlowDetectorsOverrides; packet: PacketDetectorsOverrides } {
  const flow: Settings = {};
  const packet: Settings = {};
  for (const [name, settings] of Object.entries(detectors)) {
    const defaults: Record<string, unknown> | undefined = (FLOW_DEFAULTS as unknown as Settings)[name] ?? (PACKET_DEFAULTS as unknown as Settings)[name];
    if (!defaults) {
      const known = [...Object.keys(FLOW_DEFAULTS), ...Object.keys(PACKET_DEFAULTS)].join(', ');
      throw new IdsConfigError(`ids.detectors.${name}: no such detector (known: ${known})`);
    }
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new IdsConfigError(`ids.detectors.${name} must be a section`);
    for (const [k, v] of Object.entries(settings)) {
      if (!(k in defaults)) throw new IdsConfigError(`ids.detectors.${name}.${k}: no such setting (known: ${Object.keys(defaults).join(', ')})`);
      const want = Array.isArray(defaults[k]) ? 'array' : typeof defaults[k];
      const got = Array.isArray(v) ? 'array' : typeof v;
      if (want !== got) throw new IdsConfigError(`ids.detectors.${name}.${k} must be a ${want}, got ${JSON.stringify(v)}`);
    }
    (name in FLOW_DEFAULTS ? flow : packet)[name] = settings;
  }
  return { flow: flow as FlowDetectorsOverrides, packet: packet as PacketDetectorsOverrides };
}

export interface BuiltIds {
  ids: IdsService;
  /** For GET /alerts/status. */
  status: () => Record<string, unknown>;
  rules: RuleLoadStats | null;
}

/**
 * The packet detectors of the `ids` section: the built-in ones with their settings, then the rule files'. The daemon
 * builds them twice: here for its status, and in the capture-reading thread (pcap/captureReadWorker.ts), which runs them.
 */
export async function createPacketDetectorsFromConfig(c: DvflowConfig['ids'], log?: Pick<Logger, 'warn' | 'info'>): Promise<{
  packetDetectors: PacketDetector[];
  rules: RuleLoadStats | null;
}> {
  const settings = detectorSettings(c.detectors as Settings);
  let packetDetectors: PacketDetector[];
  try {
    packetDetectors = createPacketDetectors(settings.packet);
  } catch (e) {
    throw new IdsConfigError(`ids.detectors: ${(e as Error).message}`);
  }
  let rules: RuleLoadStats | null = null;
  if (c.rules.files.length) {
    const { detector, loaded } = await createRuleDetector(c.rules.files, c.rules.vars);
    rules = loaded.stats;
    for (const e of loaded.errors.slice(0, 20)) log?.warn({ file: e.file, line: e.line }, `rule not loaded: ${e.message}`);
    log?.info({ used: loaded.stats.used, skipped: loaded.stats.skipped, errors: loaded.stats.errors, skippedByReason: loaded.stats.skippedByReason }, 'IDS rule files loaded');
    packetDetectors = [...packetDetectors, detector];
  }
  return { packetDetectors, rules };
}

export async function createIds(c: DvflowConfig['ids'], o: { store: IdsStore; dataDir: string | null; log?: Logger; flushMs?: number }): Promise<BuiltIds> {
  const settings = detectorSettings(c.detectors as Settings);
  let flowDetectors;
  try {
    flowDetectors = createFlowDetectors(settings.flow);
  } catch (e) {
    throw new IdsConfigError(`ids.detectors: ${(e as Error).message}`);
  }
  const { packetDetectors, rules } = await createPacketDetectorsFromConfig(c, o.log);
  let userRules: UserRuleStore;
  try {
    userRules = UserRuleStore.inDataDir(c.userAlerts, o.dataDir);
  } catch (e) {
    throw new IdsConfigError((e as Error).message);
  }
  for (const w of userRules.warnings) o.log?.warn(w);
  const ids = new IdsService({
    store: o.store, flowDetectors, packetDetectors, suppressionMs: c.suppressionMinutes * 60_000, userRules,
    userCycleMs: c.userCycleSeconds * 1000, webhook: c.webhook, syslog: { ...c.syslog, protocol: c.syslog.protocol === 'tcp' ? 'tcp' : 'udp' },
    log: o.log, flushMs: o.flushMs,
  });
  const status = () => ({
    detectors: [...flowDetectors.map((d) => ({ id: d.id, on: 'flows' })), ...packetDetectors.map((d) => ({ id: d.id, on: 'packets' }))],
    rules,
    suppressionMinutes: c.suppressionMinutes,
  });
  return { ids, status, rules };
}
