// Whether collector/dist (the CLI bundle scripts/build-cli.mjs makes) is at least as new as every source it is built
// from. Plain JavaScript: the `dvflow` entry point asks before anything is compiled. Walking the ~300 source files
// costs a few milliseconds of a command's start-up.
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const bundleEntry = join(root, 'collector', 'dist', 'main.js');

/** The newest modification time of a file, or of a directory and everything under it (a deletion counts too). */
export function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let n = st.mtimeMs;
  for (const e of readdirSync(path)) n = Math.max(n, newestMtime(join(path, e)));
  return n;
}

export function bundleIsFresh() {
  let built;
  try {
    built = statSync(bundleEntry).mtimeMs;
  } catch {
    return false;
  }
  const sources = Math.max(...['collector/src', 'web/src', 'package.json', 'collector/package.json', 'web/package.json'].map((f) => newestMtime(join(root, f))));
  return built >= sources;
}
