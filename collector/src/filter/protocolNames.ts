// nfdump's IP protocol names, as it prints them (`%pr`, `-s proto`) and reads them in `proto NAME`.
// Index = protocol number; numbers from 138 up have no name and print as the number.

export const nfdumpProtocolNames: readonly string[] = [
  '0', 'ICMP', 'IGMP', 'GGP', 'IPIP', 'ST', 'TCP', 'CBT', 'EGP', 'IGP', // 0-9
  'BBN', 'NVPII', 'PUP', 'ARGUS', 'ENCOM', 'XNET', 'CHAOS', 'UDP', 'MUX', 'DCN', // 10-19
  'HMP', 'PRM', 'XNS', 'Trnk1', 'Trnk2', 'Leaf1', 'Leaf2', 'RDP', 'IRTP', 'ISO-4', // 20-29
  'NETBK', 'MFESP', 'MEINP', 'DCCP', '3PC', 'IDPR', 'XTP', 'DDP', 'IDPR', 'TP++', // 30-39
  'IL', 'IPv6', 'SDRP', 'Rte6', 'Frag6', 'IDRP', 'RSVP', 'GRE', 'MHRP', 'BNA', // 40-49
  'ESP', 'AH', 'INLSP', 'SWIPE', 'NARP', 'MOBIL', 'TLSP', 'SKIP', 'ICMP6', 'NOHE6', // 50-59
  'OPTS6', 'HOST', 'CFTP', 'NET', 'SATNT', 'KLAN', 'RVD', 'IPPC', 'FS', 'SATM', // 60-69
  'VISA', 'IPCV', 'CPNX', 'CPHB', 'WSN', 'PVP', 'BSATM', 'SUNND', 'WBMON', 'WBEXP', // 70-79
  'ISOIP', 'VMTP', 'SVMTP', 'VINES', 'TTP', 'NSIGP', 'DGP', 'TCF', 'EIGRP', 'OSPF', // 80-89
  'S-RPC', 'LARP', 'MTP', 'AX.25', 'OS', 'MICP', 'SCCSP', 'ETHIP', 'ENCAP', '99', // 90-99
  'GMTP', 'IFMP', 'PNNI', 'PIM', 'ARIS', 'SCPS', 'QNX', 'A/N', 'IPcmp', 'SNP', // 100-109
  'CpqPP', 'IPXIP', 'VRRP', 'PGM', '0hop', 'L2TP', 'DDX', 'IATP', 'STP', 'SRP', // 110-119
  'UTI', 'SMP', 'SM', 'PTP', 'ISIS4', 'FIRE', 'CRTP', 'CRUDP', '128', 'IPLT', // 120-129
  'SPS', 'PIPE', 'SCTP', 'FC', '134', 'MHEAD', 'UDP-L', 'MPLS', // 130-137
];

/** The name nfdump prints for a protocol number: 'TCP', 'ICMP6', or the number itself past the table. */
export function protocolName(proto: number): string {
  return nfdumpProtocolNames[proto] ?? String(proto);
}

/**
 * Protocol number for a name, as nfdump 1.7.8 reads `proto NAME`: case-insensitive, the first table entry
 * that starts with the given text (so `tc` is TCP and `icmp` is ICMP, not ICMP6); names of six characters
 * or more are unknown. Returns undefined for an unknown name.
 */
export function protocolNumber(name: string): number | undefined {
  if (name.length === 0 || name.length >= 6) return undefined;
  const wanted = name.toLowerCase();
  const i = nfdumpProtocolNames.findIndex((n) => n.toLowerCase().startsWith(wanted));
  return i < 0 ? undefined : i;
}
