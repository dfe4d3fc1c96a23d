// The benchmarks run `dvflow` as users do: from the CLI bundle that `npm start` builds (collector/dist). After an edit
// to the sources the bundle is stale and collector/bin/dvflow.js runs the TypeScript through tsx instead, which
// costs every command ~0.3 s of start-up: a bench that spawns `dvflow` would time that instead of dvflow.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds collector/dist when it is missing or older than the sources (scripts/build-cli.mjs; a no-op otherwise). */
export function ensureCliBundle(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-cli.mjs')], { stdio: 'inherit' });
}
