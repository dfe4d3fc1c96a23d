// Rule classtypes and their priorities, as Snort's classification.config (with the classtypes the Emerging Threats
// ruleset adds in its own copy). Priority 1 is the most severe; a rule's `priority` option overrides its classtype's.
import type { Severity } from '../idsTypes.ts';

/** Priority of a rule whose classtype is missing or unknown (Suricata's default as well). */
export const DEFAULT_PRIORITY = 3;

const PRIORITIES: Readonly<Record<string, number>> = {
  'not-suspicious': 3,
  'unknown': 3,
  'bad-unknown': 2,
  'attempted-recon': 2,
  'successful-recon-limited': 2,
  'successful-recon-largescale': 2,
  'attempted-dos': 2,
  'successful-dos': 2,
  'attempted-user': 1,
  'unsuccessful-user': 1,
  'successful-user': 1,
  'attempted-admin': 1,
  'successful-admin': 1,
  'rpc-portmap-decode': 2,
  'shellcode-detect': 1,
  'string-detect': 3,
  'suspicious-filename-detect': 2,
  'suspicious-login': 2,
  'system-call-detect': 2,
  'tcp-connection': 4,
  'trojan-activity': 1,
  'unusual-client-port-connection': 2,
  'network-scan': 3,
  'denial-of-service': 2,
  'non-standard-protocol': 2,
  'protocol-command-decode': 3,
  'web-application-activity': 2,
  'web-application-attack': 1,
  'misc-activity': 3,
  'misc-attack': 2,
  'icmp-event': 3,
  'inappropriate-content': 1,
  'policy-violation': 1,
  'default-login-attempt': 2,
  'sdf': 2,
  'file-format': 1,
  'malware-cnc': 1,
  'client-side-exploit': 1,
  // Emerging Threats additions.
  'targeted-activity': 1,
  'exploit-kit': 1,
  'external-ip-check': 2,
  'domain-c2': 1,
  'pup-activity': 2,
  'credential-theft': 1,
  'social-engineering': 2,
  'coin-mining': 2,
  'command-and-control': 1,
};

/** The priority of a classtype ('' or unknown: DEFAULT_PRIORITY). */
export function classtypePriority(classtype: string): number {
  return Object.hasOwn(PRIORITIES, classtype) ? PRIORITIES[classtype] : DEFAULT_PRIORITY;
}

/** Snort priorities to dvflow severities: 1 high, 2 medium, 3 low, 4 and beyond info. */
export function severityOfPriority(priority: number): Severity {
  if (priority <= 1) return 'high';
  if (priority === 2) return 'medium';
  if (priority === 3) return 'low';
  return 'info';
}
