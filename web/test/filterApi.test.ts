// The filter editor's API through fastify's inject(): validation with the error position, completion at a
// cursor, and bad parameters answered 400 with a message, never 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildServer } from '../src/server.ts';
import filterRoutes, { MAX_COMPLETE_LENGTH, MAX_FILTER_LENGTH, type CompletionContext } from '../src/routes/filter.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { ExporterRegistry } from '../../collector/src/collector/exporterRegistry.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { invalidFilters } from '../../collector/test/filter/filterCorpus.ts';

let app: FastifyInstance;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await openTempStore();
  cleanup = t.cleanup;
  const metrics = createCollectorMetrics();
  app = await buildServer({ flowQuery: new FlowQuery(t.store, compileFilter), exporters: new ExporterRegistry(true), metrics: metrics.registry, token: '', health: async () => ({}) }, false);
});
after(async () => {
  await app.close();
  await cleanup();
});

const validate = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/filter/validate', payload: payload as object });
const complete = (query: Record<string, string>) => app.inject({ method: 'GET', url: '/api/v1/filter/complete', query });

test('a valid filter gives its canonical text', async () => {
  const r = await validate({ filter: 'PROTO TCP and  dst port 443' });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.equal(body.ok, true);
  assert.equal(typeof body.canonical, 'string');
  assert.match(body.canonical, /proto tcp/);
  assert.equal(body.position, undefined);
  const empty = await validate({ filter: '' });
  assert.equal(empty.json().ok, true, 'the empty filter matches everything');
});

test('an invalid filter is 200 with ok false, the position, a message and what was expected', async () => {
  const r = await validate({ filter: 'proto tcp and port' });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.equal(body.ok, false);
  assert.equal(body.position, 19);
  assert.match(body.message, /port number/);
  assert.ok(Array.isArray(body.expected));
  for (const c of invalidFilters) {
    const b = (await validate({ filter: c.filter })).json();
    assert.equal(b.ok, false, c.filter);
    assert.equal(b.position, c.position, c.filter);
    assert.ok(b.message.includes(c.message), `${c.filter}: ${b.message}`);
  }
});

test('completion suggests keywords at the cursor', async () => {
  const start = (await complete({ text: '' })).json();
  assert.equal(start.from, 1);
  assert.ok(start.suggestions.includes('proto') && start.suggestions.includes('not'), 'terms at the start');
  const pro = complete({ text: 'pro' });
  const p = (await pro).json();
  assert.equal(p.from, 1);
  assert.ok(p.suggestions.includes('proto'));
  assert.ok(p.suggestions.every((s: string) => s.startsWith('pro')));
  const after = (await complete({ text: 'proto tcp a' })).json();
  assert.equal(after.from, 11);
  assert.deepEqual(after.suggestions, ['and']);
  // The cursor may stand before the end: only the text before it counts.
  const mid = (await complete({ text: 'src  and proto tcp', cursor: '4' })).json();
  assert.equal(mid.from, 5);
  assert.ok(mid.suggestions.includes('ip') && mid.suggestions.includes('port'), JSON.stringify(mid));
});

test('bad parameters are 400 with a message, never 500', async () => {
  // fastify's ajv coerces scalars (42 -> '42'), so only non-scalars are type errors.
  const bodies: unknown[] = [{}, { filter: { a: 1 } }, { filter: 'any', extra: 1 }, { filter: 'x'.repeat(MAX_FILTER_LENGTH + 1) }, []];
  for (const b of bodies) {
    const r = await validate(b);
    assert.equal(r.statusCode, 400, JSON.stringify(b).slice(0, 80));
    assert.equal(typeof r.json().message, 'string');
  }
  const notJson = await app.inject({ method: 'POST', url: '/api/v1/filter/validate', headers: { 'content-type': 'application/json' }, payload: '{"filter":' });
  assert.equal(notJson.statusCode, 400);
  const text = await app.inject({ method: 'POST', url: '/api/v1/filter/validate', headers: { 'content-type': 'text/plain' }, payload: 'proto tcp' });
  assert.equal(text.statusCode, 400, 'a filter goes in a JSON body');
  const queries: Array<Record<string, string>> = [
    { text: 'proto', cursor: '-1' }, { text: 'proto', cursor: 'x' }, { text: 'proto', cursor: '6' },
    { text: 'a'.repeat(MAX_COMPLETE_LENGTH + 1) }, { text: 'proto', other: '1' }, { text: 'a', cursor: '1.5' },
  ];
  for (const q of queries) {
    const r = await complete(q);
    assert.equal(r.statusCode, 400, JSON.stringify(q).slice(0, 80));
    assert.equal(typeof r.json().message, 'string');
  }
  // Odd but well-formed input is answered, not an error.
  for (const text of ['((((', 'port 80 $', "ident 'x", '\u0000\u00ff', ')']) {
    assert.equal((await validate({ filter: text })).statusCode, 200, text);
    assert.equal((await complete({ text })).statusCode, 200, text);
  }
});

test('a suggestion provider adds names (portgroups, VIPs, exporters) to the keywords', async () => {
  const a = Fastify();
  a.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => reply.code(err.statusCode ?? 500).send({ message: err.message }));
  await a.register(filterRoutes, {
    prefix: '/api/v1',
    suggestions: ({ word, text }: CompletionContext) => (/portgroup\s+\S*$/.test(text) ? ['PG-Web', 'PG-DB'].filter((n) => n.startsWith(word)) : []),
  });
  const r = await a.inject({ method: 'GET', url: '/api/v1/filter/complete', query: { text: 'portgroup PG-W' } });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), { from: 11, suggestions: ['PG-Web'] });
  await a.close();
});

test('the filter routes are documented', async () => {
  const d = await app.inject({ method: 'GET', url: '/api/docs/json' });
  assert.ok(d.json().paths['/api/v1/filter/validate']);
  assert.ok(d.json().paths['/api/v1/filter/complete']);
});
