// Loads rule files into one rule set with the numbers an operator checks after an update: rules used, rules skipped
// per reason, errors with file and line. A file that cannot be read is an error of its own; the others still load.
import { readFile } from 'node:fs/promises';
import { SnortRuleDetector, type RuleDetectorOptions } from './ruleDetector.ts';
import { dedupeRules, parseRules, type Rule, type RuleError, type RuleVariables, type SkippedRule } from './ruleParser.ts';

export interface RuleFileStats {
  path: string;
  used: number;
  skipped: number;
  errors: number;
  /** Commented-out rules. */
  disabled: number;
}

export interface RuleLoadStats {
  files: RuleFileStats[];
  used: number;
  skipped: number;
  /** "unsupported option pcre" → rules, sorted by count (most first). */
  skippedByReason: Record<string, number>;
  errors: number;
  disabled: number;
}

export interface LoadedRules {
  rules: Rule[];
  skipped: SkippedRule[];
  errors: RuleError[];
  stats: RuleLoadStats;
}

/** Reads and parses rule files with the given variables (see ruleParser.ts for the defaults). */
export async function loadRuleFiles(paths: readonly string[], vars: RuleVariables = {}): Promise<LoadedRules> {
  const all: Rule[] = [];
  const skipped: SkippedRule[] = [];
  const errors: RuleError[] = [];
  const files: RuleFileStats[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      errors.push({ file: path, line: 0, message: `cannot read: ${(e as Error).message}` });
      files.push({ path, used: 0, skipped: 0, errors: 1, disabled: 0 });
      continue;
    }
    const r = parseRules(text, { vars, file: path });
    all.push(...r.rules);
    skipped.push(...r.skipped);
    errors.push(...r.errors);
    files.push({ path, used: r.rules.length, skipped: r.skipped.length, errors: r.errors.length, disabled: r.disabled });
  }
  const before = errors.length;
  const rules = dedupeRules(all, errors);
  // Duplicates across files: counted against the file of the later one.
  for (const e of errors.slice(before)) {
    const f = files.find((x) => x.path === e.file);
    if (f) f.errors++;
  }
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  const skippedByReason = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  return {
    rules, skipped, errors,
    stats: {
      files, used: rules.length, skipped: skipped.length, skippedByReason, errors: errors.length,
      disabled: files.reduce((n, f) => n + f.disabled, 0),
    },
  };
}

/** Loads rule files and makes the `snort-rule` detector of the rules that load. */
export async function createRuleDetector(paths: readonly string[], vars: RuleVariables = {},
  opts: RuleDetectorOptions = {}): Promise<{ detector: SnortRuleDetector; loaded: LoadedRules }> {
  const loaded = await loadRuleFiles(paths, vars);
  return { detector: new SnortRuleDetector(loaded.rules, opts), loaded };
}
