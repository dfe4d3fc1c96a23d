// The `dvflow` command runs from its esbuild bundle (collector/dist) when that is fresh, from the TypeScript sources
// through tsx otherwise; both must behave the same, and the bundle must find the data files (schema/, the dashboard)
// that the sources find relative to themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dvflowBin } from '../helpers/cliDaemon.ts';
import { bundleIsFresh, bundleEntry } from '../../bin/bundleFreshness.js';
import { repoRoot } from '../../src/repoRoot.ts';
import { schemaDir } from '../../src/storage/migrator.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');

test('the build makes a fresh bundle, and the command gives the same answers from it as from the sources', async () => {
  await run(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { cwd: root });
  assert.equal(bundleIsFresh(), true, `${bundleEntry} is at least as new as the sources`);
  assert.equal(repoRoot, root);
  assert.equal(schemaDir, join(root, 'schema'));
  for (const args of [['query', '--help'], ['pcap', '--help'], ['query', '-Z', 'proto tcp and port in [ 22 80 ]'], ['query', '-Z', 'port 80 and']]) {
    const from = async (env: Record<string, string>) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [dvflowBin, ...args], { env: { ...process.env, ...env } });
        return { code: 0, stdout, stderr };
      } catch (e) {
        const x = e as { code: number; stdout: string; stderr: string };
        return { code: x.code, stdout: x.stdout, stderr: x.stderr };
      }
    };
    const bundled = await from({});
    const source = await from({ DVFLOW_FROM_SOURCE: '1' });
    assert.deepEqual(bundled, source, `dvflow ${args.join(' ')}`);
  }
});

test('the bundled daemon applies the schema and serves the dashboard from the checkout', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dvflow-bundle-'));
  try {
    const { startCliDaemon } = await import('../helpers/cliDaemon.ts');
    const d = await startCliDaemon(data);
    try {
      const page = await fetch(`${d.api}/`);
      assert.equal(page.status, 200, 'the built dashboard is found from collector/dist');
      assert.match(await page.text(), /<div id="app"/);
      const q = await fetch(`${d.api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statistics: ['proto'] }) });
      assert.equal(q.status, 200, 'the flows table exists: the migrations ran');
    } finally {
      await d.stop();
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
