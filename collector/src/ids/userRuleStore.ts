// User alert rules made from the dashboard, kept in <data>/alert-rules.json (written atomically: temporary file +
// rename). Rules from the config file are read-only beside them; a dashboard rule cannot take a config rule's name.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkUserRule, type UserAlertRule } from './userAlerts.ts';

export interface ListedRule extends UserAlertRule {
  /** 'config': from the config file (read-only); 'dashboard': saved through the API. */
  from: 'config' | 'dashboard';
}

export class UserRuleStore {
  private saved: UserAlertRule[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** Problems met reading the file or config rules (logged by the daemon). */
  readonly warnings: string[] = [];
  private readonly configRules: UserAlertRule[];

  constructor(configRules: readonly unknown[], private readonly file: string | null) {
    this.configRules = [];
    for (const r of configRules) {
      const problem = checkUserRule(r);
      if (problem) throw new Error(`ids.userAlerts: ${problem}`);
      this.configRules.push(r as UserAlertRule);
    }
    const dup = this.configRules.find((r, i) => this.configRules.findIndex((o) => o.name === r.name) !== i);
    if (dup) throw new Error(`ids.userAlerts: two rules named '${dup.name}'`);
    if (file) this.load(file);
  }

  static inDataDir(configRules: readonly unknown[], dataDir: string | null): UserRuleStore {
    return new UserRuleStore(configRules, dataDir ? join(dataDir, 'alert-rules.json') : null);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      // A damaged file must not stop the daemon nor be overwritten by the next save: set it aside.
      const aside = `${file}.damaged-${Date.now()}`;
      renameSync(file, aside);
      this.warnings.push(`${file} was unreadable (${(e as Error).message}); moved to ${aside}`);
      return;
    }
    const rules = (parsed as { rules?: unknown[] } | null)?.rules;
    for (const r of Array.isArray(rules) ? rules : []) {
      const problem = checkUserRule(r);
      if (problem) this.warnings.push(`${file}: skipped a rule: ${problem}`);
      else if (this.configRules.some((c) => c.name === (r as UserAlertRule).name)) this.warnings.push(`${file}: skipped '${(r as UserAlertRule).name}': the config file has a rule of that name`);
      else this.saved.push(r as UserAlertRule);
    }
  }

  /** Every rule, config ones first. */
  list(): ListedRule[] {
    return [
      ...this.configRules.map((r) => ({ ...r, from: 'config' as const })),
      ...this.saved.map((r) => ({ ...r, from: 'dashboard' as const })),
    ];
  }

  rules(): UserAlertRule[] {
    return [...this.configRules, ...this.saved];
  }

  isConfigRule(name: string): boolean {
    return this.configRules.some((r) => r.name === name);
  }

  /** Add or replace a dashboard rule. Throws with the problem when the rule is invalid or belongs to the config. */
  async put(rule: UserAlertRule): Promise<UserAlertRule> {
    const problem = checkUserRule(rule);
    if (problem) throw new RuleError(problem);
    if (this.isConfigRule(rule.name)) throw new RuleError(`rule '${rule.name}' comes from the config file; change it there`);
    const exists = this.saved.some((r) => r.name === rule.name);
    this.saved = exists ? this.saved.map((r) => (r.name === rule.name ? rule : r)) : [...this.saved, rule];
    await this.save();
    return { ...rule };
  }

  async remove(name: string): Promise<boolean> {
    if (this.isConfigRule(name)) throw new RuleError(`rule '${name}' comes from the config file; remove it there`);
    const before = this.saved.length;
    this.saved = this.saved.filter((r) => r.name !== name);
    if (this.saved.length === before) return false;
    await this.save();
    return true;
  }

  private save(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const body = JSON.stringify({ rules: this.saved }, null, 2);
    this.writing = this.writing.catch(() => undefined).then(() => {
      writeFileSync(`${file}.tmp`, body);
      renameSync(`${file}.tmp`, file);
    });
    return this.writing;
  }
}

/** A rule the user must fix (400 from the API). */
export class RuleError extends Error {
  override name = 'RuleError';
}
