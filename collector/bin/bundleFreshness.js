// Whether collector/dist (the CLI bundle scripts/build-cli.mjs makes) is at least as new as every source it is built
// from. Plain JavaScript: the `dvflow` entry point asks before anything is compiled. Walking the ~300 source files
// costs a few milliseconds of a command's start-up.
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const bundleEntry = join(root, 'collector', 'dist', 'main.js');

function newest(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n = Math.max(n, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return n;
}

export function bundleIsFresh() {
  let built;
  try {
    built = statSync(bundleEntry).mtimeMs;
  } catch {
    return false;
  }
  const sources = Math.max(
    newest(join(root, 'collector', 'src')), newest(join(root, 'web', 'src')),
    ...['package.json', 'collector/package.json', 'web/package.json'].map((f) => statSync(join(root, f)).mtimeMs),
  );
  return built >= sources;
}
