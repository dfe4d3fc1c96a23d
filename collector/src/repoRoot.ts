// The checkout's root directory (where schema/ and web/ are), found upward from this module, so that paths to data
// files come out the same whether the code runs from its TypeScript sources or from the CLI bundle (collector/dist,
// scripts/build-cli.mjs), where every module sits at another depth.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'schema', '001_flows.sql'))) return dir;
    if (dirname(dir) === dir) throw new Error(`dvflow: no schema/ directory above ${from}`);
  }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
