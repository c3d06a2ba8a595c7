/**
 * A short summary of a capture: `tcpdump -nn -r FILE` lines counted per
 * protocol. tcpdump is the outside reader here; this only classifies its lines.
 *
 * ```
 *  "IP 198.18.1.1.40000 > 198.18.2.1.5201: Flags [.], ..."   → TCP
 *  "IP 198.18.1.1 > 198.18.2.1: ICMP echo request, ..."      → ICMP
 *  "IP6 fd00:1::1 > fd00:2::1: ICMP6, echo request, ..."     → ICMPv6
 *  "IP 198.18.1.1.5353 > 198.18.2.1.53: UDP, length 8"       → UDP
 * ```
 */

/** Packets per protocol, in first-seen order. */
export type ProtocolCounts = Map<string, number>;

/** The protocol a `tcpdump -nn` line shows (the part after "IP"/"IP6" and the addresses). */
export function lineProtocol(line: string): string {
  const m = /\b(IP6?) (\S+) > (\S+): (.*)$/.exec(line);
  if (m === null) return 'other';
  const [, family, , , rest] = m as unknown as [string, string, string, string, string];
  if (/\bICMP6\b/.test(rest)) return 'ICMPv6'; // also "HBH ICMP6, multicast listener report"
  if (/^ICMP\b/.test(rest)) return 'ICMP';
  if (/^Flags \[/.test(rest) || /\btcp\b/.test(rest)) return family === 'IP6' ? 'TCP/IPv6' : 'TCP';
  if (/\bUDP\b/.test(rest)) return family === 'IP6' ? 'UDP/IPv6' : 'UDP';
  return family === 'IP6' ? 'IPv6 other' : 'IPv4 other';
}

/** Counts the lines of a capture per protocol. */
export function countProtocols(lines: readonly string[]): ProtocolCounts {
  const counts: ProtocolCounts = new Map();
  for (const line of lines) {
    if (line.trim() === '') continue;
    const p = lineProtocol(line);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

/** "TCP 812, ICMP 10, ICMPv6 10" (most packets first). */
export function formatCounts(counts: ProtocolCounts): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
}
