// dvflow's own filter terms for the inventory (vm, backend, leg, duplicate) and the VXLAN tenant 5-tuple:
// round trip through formatFilter, and clear errors. (Matching, SQL and the store are covered by the corpus.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, formatFilter, FilterError } from '../../src/filter/index.ts';

test('inventory and tenant terms print back as they parse', () => {
  for (const [input, canonical] of [
    ['in VM "web 01"', 'in vm "web 01"'],
    ['backend web1 and leg server-client', 'backend web1 and leg server-client'],
    ['not duplicate', 'not duplicate'],
    ['tenant src ip 10.1.1.1', 'tenant src ip 10.1.1.1'],
    ['tenant port 443', 'tenant port 443'],
  ]) {
    assert.equal(formatFilter(parseFilter(input!)), canonical, input);
    assert.equal(formatFilter(parseFilter(canonical!)), canonical);
  }
});

test('bad inventory and tenant terms: position and message', () => {
  for (const [input, pos, re] of [
    ['leg sideways', 5, /unknown leg 'sideways'/],
    ['backend', 8, /real server name/],
    ['tenant flags S', 1, /'tenant' takes/],
    ['tenant', 7, /expected a filter term/],
    ['src vm x', 1, /'src' cannot qualify 'vm'/],
  ] as const) {
    assert.throws(() => parseFilter(input), (e: unknown) => {
      assert.ok(e instanceof FilterError, String(e));
      assert.equal(e.position, pos, `${input}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    });
  }
});
