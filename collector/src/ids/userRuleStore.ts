// User alert rules made from the dashboard, kept in <data>/alert-rules.json (jsonStateFile.ts). Rules from the config file are read-only beside them; a dashboard rule cannot take a config rule's name.
import { join } from 'node:path';
import { JsonStateFile } from '../storage/jsonStateFile.ts';
import { checkUserRule, type UserAlertRule } from './userAlerts.ts';

export interface ListedRule extends UserAlertRule {
  /** 'config': from the config file (read-only); 'dashboard': saved through the API. */
  from: 'config' | 'dashboard';
}

export class UserRuleStore {
  private saved: UserAlertRule[] = [];
  private readonly store: JsonStateFile;
  /** Problems met reading the file or config rules (logged by the daemon). */
  readonly warnings: string[] = [];
  private readonly configRules: UserAlertRule[];

  constructor(configRules: readonly unknown[], file: string | null) {
    this.store = new JsonStateFile(file);
    this.configRules = [];
    for (const r of configRules) {
      const problem = checkUserRule(r);
      if (problem) throw new Error(`ids.userAlerts: ${problem}`);
      this.configRules.push(r as UserAlertRule);
    }
    const dup = this.configRules.find((r, i) => this.configRules.findIndex((o) => o.name === r.name) !== i);
    if (dup) throw new Error(`ids.userAlerts: two rules named '${dup.name}'`);
    this.load();
  }

  static inDataDir(configRules: readonly unknown[], dataDir: string | null): UserRuleStore {
    return new UserRuleStore(configRules, dataDir ? join(dataDir, 'alert-rules.json') : null);
  }

  private load(): void {
    const file = this.store.file;
    const { value: parsed, warning } = this.store.read();
    if (warning) this.warnings.push(warning);
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
    return this.store.save({ rules: this.saved });
  }
}

/** A rule the user must fix (400 from the API). */
export class RuleError extends Error {
  override name = 'RuleError';
}
