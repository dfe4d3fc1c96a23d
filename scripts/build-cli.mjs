#!/usr/bin/env node
// Bundles the `dvflow` command (collector/src/cli/main.ts, with the daemon and the web server it loads) into
// collector/dist with esbuild, when the bundle is missing or older than the TypeScript it is made of; otherwise does
// nothing. collector/bin/dvflow.js runs the bundle when it is fresh and the sources through tsx otherwise: tsx's
// loader costs every command ~0.3 s of start-up (compiling and resolving each module in its hooks thread), which
// `dvflow pcap`, `dvflow query` and scripts calling them in a loop pay each time. `npm start` and `npm test` run
// this first. `--force` always builds.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleIsFresh, bundleEntry } from '../collector/bin/bundleFreshness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = dirname(bundleEntry);
if (!process.argv.includes('--force') && bundleIsFresh()) process.exit(0);

// npm packages stay imports (resolved from node_modules at run time, native addons included); the workspace's own
// packages (@dvflow/*) are TypeScript and go into the bundle.
const external = new Set();
for (const pkg of ['package.json', 'collector/package.json', 'web/package.json']) {
  const j = JSON.parse(readFileSync(join(root, pkg), 'utf8'));
  for (const name of Object.keys({ ...j.dependencies, ...j.devDependencies })) if (!name.startsWith('@dvflow/')) external.add(name);
}
rmSync(out, { recursive: true, force: true });
try {
  await build({
    // The capture-reading thread's module is a worker's entry point (pcap/captureReadThread.ts starts it beside the chunks).
    entryPoints: { main: join(root, 'collector', 'src', 'cli', 'main.ts'), captureReadWorker: join(root, 'collector', 'src', 'pcap', 'captureReadWorker.ts') },
    outdir: out,
    bundle: true,
    splitting: true, // the commands load the daemon, the query engine and the web server lazily: so does the bundle
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...external].flatMap((n) => [n, `${n}/*`]),
    sourcemap: true,
    logLevel: 'warning',
  });
} catch (e) {
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(`the CLI bundle failed to build: ${e.message}\n(collector/bin/dvflow.js still runs from the TypeScript sources)\n`);
  process.exit(1);
}
if (!existsSync(bundleEntry) || statSync(bundleEntry).size === 0) process.exit(1);
