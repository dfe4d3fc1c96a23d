// Protocol numbers as nfdump prints them in its Proto column.
const names: Record<number, string> = {
  0: 'HOPOPT', 1: 'ICMP', 2: 'IGMP', 3: 'GGP', 4: 'IPIP', 6: 'TCP', 8: 'EGP', 9: 'IGP', 17: 'UDP', 41: 'IPv6',
  43: 'Rout6', 44: 'Frag6', 46: 'RSVP', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMP6', 59: 'NoNxt', 60: 'Opts6',
  88: 'EIGRP', 89: 'OSPF', 94: 'IPIP', 103: 'PIM', 112: 'VRRP', 115: 'L2TP', 132: 'SCTP', 136: 'UDPLite', 137: 'MPLS',
};

export function protocolName(p: number): string {
  return names[p] ?? String(p);
}
