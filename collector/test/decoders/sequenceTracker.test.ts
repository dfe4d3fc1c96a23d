// Exporter sequence accounting as nfcapd does it: what the sequence counts per version (RFC 3954 packets,
// RFC 7011 data records, v5 flows), gaps and estimated lost flows, 32-bit wrap, reordering, restarts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker } from '../../src/decoders/sequenceTracker.ts';

describe('sequence tracker', () => {
  it('v5 and IPFIX: the next sequence is this one plus the flows / data records carried; a gap is that many lost', () => {
    for (const version of [5, 10]) {
      const t = new SequenceTracker();
      assert.equal(t.update('e', version, 0, 1000, 30, 30).status, 'first');
      assert.deepEqual(t.update('e', version, 0, 1030, 30, 30), { status: 'ok', failure: false, lostFlows: 0, expected: 1030 });
      assert.deepEqual(t.update('e', version, 0, 1100, 30, 30), { status: 'gap', failure: true, lostFlows: 40, expected: 1060 });
      assert.equal(t.update('e', version, 0, 1130, 5, 5).status, 'ok');
      assert.equal(t.stats()[0].failures, 1);
      assert.equal(t.stats()[0].lostFlows, 40);
    }
  });

  it('v9: the sequence counts packets; lost flows = missing packets x average flows per packet', () => {
    const t = new SequenceTracker();
    t.update('e', 9, 1, 10, 1, 20);
    t.update('e', 9, 1, 11, 1, 10);
    assert.deepEqual(t.update('e', 9, 1, 12, 1, 30), { status: 'ok', failure: false, lostFlows: 0, expected: 12 });
    // 3 packets seen, 60 flows: 20 per packet; packets 13 and 14 are missing.
    assert.deepEqual(t.update('e', 9, 1, 15, 1, 20), { status: 'gap', failure: true, lostFlows: 40, expected: 13 });
  });

  it('handles the 32-bit wrap of the sequence number', () => {
    const t = new SequenceTracker();
    t.update('e', 10, 0, 0xffffffff - 9, 10, 10);
    assert.equal(t.update('e', 10, 0, 0, 5, 5).status, 'ok', '(2^32 - 10) + 10 wraps to 0');
    assert.deepEqual(t.update('e', 10, 0, 10, 5, 5), { status: 'gap', failure: true, lostFlows: 5, expected: 5 });
    const v9 = new SequenceTracker();
    v9.update('e', 9, 0, 0xffffffff, 1, 1);
    assert.equal(v9.update('e', 9, 0, 0, 1, 1).status, 'ok');
  });

  it('a late (reordered or duplicated) datagram is a failure without lost flows and does not move the expectation', () => {
    const t = new SequenceTracker();
    t.update('e', 10, 0, 500, 10, 10);
    assert.equal(t.update('e', 10, 0, 520, 10, 10).status, 'gap');
    assert.deepEqual(t.update('e', 10, 0, 510, 10, 10), { status: 'late', failure: true, lostFlows: 0, expected: 530 });
    assert.equal(t.update('e', 10, 0, 530, 10, 10).status, 'ok');
  });

  it('an exporter restart (big backward jump, or a jump too far forward) resets without inventing lost flows', () => {
    const t = new SequenceTracker();
    t.update('e', 10, 0, 5_000_000, 10, 10);
    assert.deepEqual(t.update('e', 10, 0, 0, 10, 10), { status: 'reset', failure: true, lostFlows: 0, expected: 5_000_010 });
    assert.equal(t.update('e', 10, 0, 10, 10, 10).status, 'ok');
    assert.deepEqual(t.update('e', 10, 0, 2_000_000_000, 10, 10), { status: 'reset', failure: true, lostFlows: 0, expected: 20 });
    assert.equal(t.update('e', 10, 0, 2_000_000_010, 1, 1).status, 'ok');
  });

  it('tracks each (exporter key, version, domain) separately', () => {
    const t = new SequenceTracker();
    t.update('e', 9, 0, 1, 1, 1);
    assert.equal(t.update('e', 9, 1, 100, 1, 1).status, 'first');
    assert.equal(t.update('e', 10, 0, 7, 1, 1).status, 'first');
    assert.equal(t.update('f', 9, 0, 50, 1, 1).status, 'first');
    assert.equal(t.update('e', 9, 0, 2, 1, 1).status, 'ok');
    t.forget('e', 9, 0);
    assert.equal(t.update('e', 9, 0, 99, 1, 1).status, 'first');
  });
});
