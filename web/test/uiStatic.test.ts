// The built dashboard at /: files, the history fallback to index.html for client-side routes, cache headers,
// and that /api and /metrics are never shadowed; without a build, a plain 503 that says how to build it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, type DvflowContext } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';

const INDEX = '<!doctype html><html><body><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script></body></html>';
let built: FastifyInstance;
let unbuilt: FastifyInstance;
let dist: string;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await openTempStore();
  cleanup = t.cleanup;
  dist = mkdtempSync(join(tmpdir(), 'dvflow-ui-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("dvflow")');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  const ctx: DvflowContext = { flowQuery: new FlowQuery(t.store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: '', health: async () => ({ store: 'test' }), runner: t.store };
  built = await buildServer({ ...ctx, uiDir: dist }, false);
  unbuilt = await buildServer({ ...ctx, uiDir: join(dist, 'nosuch') }, false);
});
after(async () => {
  await built.close();
  await unbuilt.close();
  rmSync(dist, { recursive: true, force: true });
  await cleanup();
});

test('index.html at /, assets with long caching, client routes fall back to index.html', async () => {
  const root = await built.inject({ method: 'GET', url: '/' });
  assert.equal(root.statusCode, 200);
  assert.equal(root.body, INDEX);
  assert.match(root.headers['content-type'] as string, /text\/html/);
  assert.equal(root.headers['cache-control'], 'no-cache');

  const js = await built.inject({ method: 'GET', url: '/assets/index-abc123.js' });
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /javascript/);
  assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await built.inject({ method: 'GET', url: '/favicon.svg' })).statusCode, 200);

  for (const path of ['/overview', '/vips/www?window=24h', '/portgroups/web/detail', '/explore']) {
    const r = await built.inject({ method: 'GET', url: path, headers: { accept: 'text/html' } });
    assert.equal(r.statusCode, 200, path);
    assert.equal(r.body, INDEX, path);
    assert.equal(r.headers['cache-control'], 'no-cache');
  }
  // Outside the build directory nothing is served.
  const trav = await built.inject({ method: 'GET', url: '/../../package.json' });
  assert.ok(!trav.body.includes('"workspaces"'), 'no file outside dist');
});

test('/api and /metrics are never shadowed: real routes answer, unknown ones are JSON 404s', async () => {
  const h = await built.inject({ method: 'GET', url: '/api/v1/health' });
  assert.equal(h.statusCode, 200);
  assert.equal(h.json().ok, true);
  assert.equal((await built.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
  assert.equal((await built.inject({ method: 'GET', url: '/api/docs/json' })).statusCode, 200);
  for (const [method, url] of [['GET', '/api/v1/nosuch'], ['GET', '/api/nosuch'], ['GET', '/metrics/x'], ['POST', '/api/v1/nosuch'], ['POST', '/overview']] as const) {
    const r = await built.inject({ method, url });
    assert.equal(r.statusCode, 404, `${method} ${url}`);
    assert.match(r.headers['content-type'] as string, /application\/json/);
    assert.match(r.json().message, /no route/);
  }
});

test('without a build: a plain 503 page that says how to build it; the API still works', async () => {
  for (const path of ['/', '/overview']) {
    const r = await unbuilt.inject({ method: 'GET', url: path });
    assert.equal(r.statusCode, 503, path);
    assert.match(r.headers['content-type'] as string, /text\/html/);
    assert.match(r.body, /dashboard not built: run npm run build:ui/);
  }
  assert.equal((await unbuilt.inject({ method: 'GET', url: '/api/v1/health' })).statusCode, 200);
  assert.equal((await unbuilt.inject({ method: 'GET', url: '/api/v1/nosuch' })).statusCode, 404);
});
