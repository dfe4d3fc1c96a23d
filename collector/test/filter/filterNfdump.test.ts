// Where nfdump is installed (Debian 12: 1.7.1), `nfdump -Z` must agree with dvflow on what is a filter.
// Skipped, and listed here: dvflow's own terms and 1.7.8-only forms (dialect 'dvflow' / '1.7.8' in the
// corpus), and host names (nfdump resolves them, dvflow refuses them; resolving would need DNS).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { validateFilter } from '../../src/filter/index.ts';
import { filterCorpus, invalidFilters, unsupportedFilters } from './filterCorpus.ts';
import { sampleExporterIds } from './sampleFlows.ts';

function nfdumpVersion(): string | null {
  const r = spawnSync('nfdump', ['-V'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function nfdumpAccepts(filter: string): boolean {
  const r = spawnSync('nfdump', ['-Z', filter], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0;
}

const version = nfdumpVersion();
const skip = version === null ? 'nfdump is not installed' : !/1\.7\.1\b/.test(version) ? `nfdump is ${version}, the corpus marks 1.7.1 validity` : false;

/** Forms skipped in the comparison, with why. */
export const notCompared = {
  dialects: ['dvflow', '1.7.8'] as const,
  hostNames: ['host www.example.invalid', 'router ip www.example.invalid'],
};

test('nfdump -Z accepts every corpus filter of the 1.7.1 dialect, and so does dvflow', { skip }, () => {
  const compared = filterCorpus.filter((c) => !(notCompared.dialects as readonly string[]).includes(c.dialect));
  assert.ok(compared.length >= 100, `${compared.length} filters compared`);
  for (const c of compared) {
    assert.equal(c.nfdump171, true, c.filter);
    assert.equal(nfdumpAccepts(c.filter), true, `nfdump -Z rejects ${JSON.stringify(c.filter)}`);
    assert.equal(validateFilter(c.filter, { exporterIds: sampleExporterIds }).ok, true, c.filter);
  }
});

test('nfdump -Z rejects the 1.7.8-only and dvflow forms the corpus marks so', { skip }, () => {
  for (const c of filterCorpus.filter((x) => !x.nfdump171)) {
    assert.equal(nfdumpAccepts(c.filter), false, `nfdump -Z accepts ${JSON.stringify(c.filter)}; mark it nfdump171`);
  }
});

test('nfdump -Z and dvflow both reject every invalid filter', { skip }, () => {
  for (const c of invalidFilters) {
    if (notCompared.hostNames.includes(c.filter)) continue;
    assert.equal(nfdumpAccepts(c.filter), false, `nfdump -Z accepts ${JSON.stringify(c.filter)}`);
    const v = validateFilter(c.filter);
    assert.equal(v.ok, false, c.filter);
  }
});

test('terms dvflow does not support are nfdump syntax, reported as unsupported', { skip }, () => {
  for (const c of unsupportedFilters) {
    assert.equal(nfdumpAccepts(c.filter), c.nfdump171, c.filter);
    const v = validateFilter(c.filter);
    assert.ok(!v.ok && v.kind === 'unsupported', c.filter);
  }
});
