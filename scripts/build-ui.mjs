#!/usr/bin/env node
// Builds the dashboard (web/ui -> web/ui/dist) with Vite when dist is missing or older than the UI's
// sources; otherwise does nothing. `npm start` and `npm test` run it first, so a fresh clone serves the
// dashboard without a separate build step. `--force` always builds.
import { existsSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { newestMtime } from '../collector/bin/bundleFreshness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ui = join(root, 'web', 'ui');

const index = join(ui, 'dist', 'index.html');
const sources = Math.max(...['src', 'index.html', 'vite.config.ts', 'package.json'].map((f) => newestMtime(join(ui, f))));
if (!process.argv.includes('--force') && existsSync(index) && statSync(index).mtimeMs >= sources) process.exit(0);
process.stderr.write('building the dashboard (web/ui -> web/ui/dist)...\n');
const r = spawnSync('npm', ['run', 'build', '-w', '@dvflow/ui'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (r.status !== 0 || !existsSync(index)) {
  process.stderr.write('the dashboard build failed (see above); the API still works, / answers 503\n');
  process.exit(r.status || 1);
}
