import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  completeFilter, describeFilter, filterFields, filterKeywords, FilterError, TERM_KEYWORDS, validateFilter,
} from '../../src/filter/index.ts';

test('the keyword list documents every term keyword the parser knows', () => {
  const documented = new Set(filterKeywords.map((k) => k.keyword));
  const aliases = new Set(['inet', 'inet6', 'host', 'icmp', 'engine', 'dir', 'bgpnext', 'router']);
  for (const k of TERM_KEYWORDS) assert.ok(documented.has(k) || aliases.has(k), `${k} is not documented`);
  for (const k of filterKeywords) assert.ok(k.syntax.length > 0 && k.description.length > 0, k.keyword);
  assert.ok(filterFields.every((f) => f.columns.length > 0));
});

test('validateFilter: ok with the canonical text, or position, message and what was expected', () => {
  assert.deepEqual(validateFilter('PORT 80 And Proto TCP'), { ok: true, canonical: 'port 80 and proto tcp' });
  assert.deepEqual(validateFilter('src port'), {
    ok: false,
    position: 9,
    message: "error at 9: expected a port number after 'port'",
    expected: ['<number>', '=', '==', '>', '<', '>=', '<=', 'eq', 'gt', 'lt', 'ge', 'le', 'in'],
    kind: 'syntax',
  });
  const bad = validateFilter('proto tcp and port 80 xyz');
  assert.ok(!bad.ok && bad.position === 23 && bad.expected.includes('and'));
  const unsupported = validateFilter('payload content "x"');
  assert.ok(!unsupported.ok && unsupported.kind === 'unsupported' && unsupported.position === 1);
  const value = validateFilter('port 99999');
  assert.ok(!value.ok && value.kind === 'value' && value.position === 6);
});

test('describeFilter: canonical text, columns read, match-all detection', () => {
  const d = describeFilter('src ip 10.0.0.1 or dst port 80 and proto tcp');
  assert.equal(d.canonical, 'src ip 10.0.0.1 or dst port 80 and proto tcp');
  assert.deepEqual(d.columns, ['dst_port', 'proto', 'src_addr']);
  assert.equal(d.matchesAll, false);
  assert.deepEqual(describeFilter('pps > 10').columns, ['first', 'last', 'packets']);
  assert.equal(describeFilter('').matchesAll, true);
  assert.equal(describeFilter('any or port 80').matchesAll, true);
  assert.equal(describeFilter('not flows > 1').matchesAll, true);
  assert.throws(() => describeFilter('port'), FilterError);
});

test('completeFilter suggests what the grammar accepts at the cursor', () => {
  assert.deepEqual(completeFilter('po'), { from: 1, suggestions: ['port', 'portgroup'] });
  assert.deepEqual(completeFilter('src '), { from: 5, suggestions: ['ip', 'host', 'net', 'port', 'as', 'mask', 'vlan', 'tos', 'mac', 'tun', 'tunip'] });
  assert.deepEqual(completeFilter('src p'), { from: 5, suggestions: ['port'] });
  assert.deepEqual(completeFilter('in '), { from: 4, suggestions: ['src', 'dst', 'if', 'packets', 'bytes', 'mac', 'portgroup', 'vm'] });
  assert.deepEqual(completeFilter('port 80 '), { from: 9, suggestions: ['and', 'or'] });
  assert.deepEqual(completeFilter('port 80 a'), { from: 9, suggestions: ['and'] });
  assert.ok(completeFilter('proto ').suggestions.includes('tcp'));
  assert.deepEqual(completeFilter('proto i'), { from: 7, suggestions: ['icmp', 'icmp6'] });
  assert.ok(completeFilter('').suggestions.includes('not'));
  // The cursor may sit before the end of the text.
  assert.deepEqual(completeFilter('dst po and proto tcp', 6), { from: 5, suggestions: ['port'] });
  // After an error earlier in the text there is nothing sensible to offer.
  assert.deepEqual(completeFilter('portt 80 and p').suggestions, []);
});
