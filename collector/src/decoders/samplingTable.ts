// Sampling rates learned from options data (and what the caller configures), per exporter key and
// observation domain / source id, per sampler (samplerId IE 48 / selectorId IE 302). Pure state: no clock.

/** Learned rates of one exporter domain. */
export class DomainSampling {
  /** Rate announced without a sampler id (scope: the whole exporter/domain); 0 = none. */
  domainRate = 0;
  readonly samplers = new Map<number, number>();

  /**
   * Rate for a record naming `samplerId` (-1: names none): that sampler's rate; else the domain-wide rate;
   * else, when the exporter announced exactly one sampler, that one (exporters that announce one sampler
   * often omit its id from data records). 0 = nothing learned.
   */
  rateFor(samplerId: number): number {
    if (samplerId >= 0) {
      const r = this.samplers.get(samplerId);
      if (r !== undefined) return r;
    }
    if (this.domainRate > 0) return this.domainRate;
    if (this.samplers.size === 1) for (const r of this.samplers.values()) return r;
    return 0;
  }
}

export interface SamplingTableJSON {
  format: 'dvflow-sampling/1';
  domains: Array<{ exporterKey: string; domain: number; domainRate: number; samplers: Array<[number, number]> }>;
}

/** Where an applied rate came from: override beats announced (learned), announced beats the default. */
export type RateSource = 'override' | 'announced' | 'default' | 'none';

/** Samplers kept per domain at most: an exporter cycling sampler ids must not grow memory without bound. */
const MAX_SAMPLERS_PER_DOMAIN = 4096;

export class SamplingTable {
  private readonly byExporter = new Map<string, Map<number, DomainSampling>>();

  /** Learned state of one exporter domain, undefined if nothing was learned. */
  domain(exporterKey: string, domain: number): DomainSampling | undefined {
    return this.byExporter.get(exporterKey)?.get(domain);
  }

  /**
   * Record a rate announced in options data. samplerId -1 = domain-wide. Rates below 1 are ignored.
   * Returns true when it changed what was known.
   */
  learn(exporterKey: string, domain: number, samplerId: number, rate: number): boolean {
    if (!(rate >= 1) || !Number.isFinite(rate)) return false;
    let domains = this.byExporter.get(exporterKey);
    if (!domains) { domains = new Map(); this.byExporter.set(exporterKey, domains); }
    let d = domains.get(domain);
    if (!d) { d = new DomainSampling(); domains.set(domain, d); }
    if (samplerId < 0) {
      if (d.domainRate === rate) return false;
      d.domainRate = rate;
      return true;
    }
    if (d.samplers.get(samplerId) === rate) return false;
    if (!d.samplers.has(samplerId) && d.samplers.size >= MAX_SAMPLERS_PER_DOMAIN) {
      const oldest = d.samplers.keys().next().value as number;
      d.samplers.delete(oldest);
    }
    d.samplers.set(samplerId, rate);
    return true;
  }

  /** Learned rate for a record of this exporter domain naming samplerId (-1: none); 0 = nothing learned. */
  rateFor(exporterKey: string, domain: number, samplerId = -1): number {
    return this.domain(exporterKey, domain)?.rateFor(samplerId) ?? 0;
  }

  /** Forget what an exporter announced (e.g. it restarted). */
  forget(exporterKey: string): void {
    this.byExporter.delete(exporterKey);
  }

  toJSON(): SamplingTableJSON {
    const domains: SamplingTableJSON['domains'] = [];
    for (const [exporterKey, ds] of this.byExporter) {
      for (const [domain, d] of ds) domains.push({ exporterKey, domain, domainRate: d.domainRate, samplers: [...d.samplers] });
    }
    return { format: 'dvflow-sampling/1', domains };
  }

  /** Rebuild from toJSON() output; malformed entries are skipped. */
  static fromJSON(json: unknown): SamplingTable {
    const t = new SamplingTable();
    const domains = (json as Partial<SamplingTableJSON> | null)?.domains;
    if (!Array.isArray(domains)) return t;
    for (const e of domains) {
      if (!e || typeof e.exporterKey !== 'string' || !Number.isInteger(e.domain)) continue;
      if (typeof e.domainRate === 'number' && e.domainRate >= 1) t.learn(e.exporterKey, e.domain, -1, e.domainRate);
      if (!Array.isArray(e.samplers)) continue;
      for (const s of e.samplers) {
        if (Array.isArray(s) && Number.isInteger(s[0]) && s[0] >= 0 && typeof s[1] === 'number') t.learn(e.exporterKey, e.domain, s[0], s[1]);
      }
    }
    return t;
  }
}

/**
 * The rate to apply and its source: a configured override beats what the exporter announced, which beats a
 * configured default; nothing at all means unsampled (1).
 */
export function resolveSamplingRate(announced: number, samplingDefault?: number, samplingOverride?: number): { rate: number; source: RateSource } {
  if (samplingOverride !== undefined && samplingOverride >= 1) return { rate: samplingOverride, source: 'override' };
  if (announced >= 1) return { rate: announced, source: 'announced' };
  if (samplingDefault !== undefined && samplingDefault >= 1) return { rate: samplingDefault, source: 'default' };
  return { rate: 1, source: 'none' };
}
