/** The capture summary classifies real `tcpdump -nn` line shapes per protocol. */
import t from 'tap';
import { countProtocols, formatCounts, lineProtocol } from './capture-summary.js';

const rows: Array<[line: string, protocol: string]> = [
  ['07:05:01.123456 IP 198.18.1.1.40000 > 198.18.2.1.5201: Flags [S], seq 1, win 64240, length 0', 'TCP'],
  ['07:05:01.123456 IP 198.18.2.1.5201 > 198.18.1.1.40000: Flags [.], ack 65161, win 501, length 0', 'TCP'],
  ['07:05:01.123456 IP6 fd00:1::1.40000 > fd00:2::1.5201: Flags [P.], seq 1:65, ack 1, win 64, length 64', 'TCP/IPv6'],
  ['07:05:01.123456 IP 198.18.1.1 > 198.18.2.1: ICMP echo request, id 7, seq 1, length 64', 'ICMP'],
  ['07:05:01.123456 IP 198.18.1.254 > 198.18.1.1: ICMP time exceeded in-transit, length 92', 'ICMP'],
  ['07:05:01.123456 IP6 fd00:1::1 > fd00:2::1: ICMP6, echo request, id 7, seq 1, length 64', 'ICMPv6'],
  ['07:05:01.123456 IP6 fe80::1 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group record(s), length 28', 'ICMPv6'],
  ['07:05:01.123456 IP 198.18.1.1.5000 > 198.18.2.1.7: UDP, length 13', 'UDP'],
  ['07:05:01.123456 IP6 fd00:1::1.5000 > fd00:2::1.7: UDP, length 13', 'UDP/IPv6'],
  ['07:05:01.123456 IP 198.18.1.1 > 198.18.2.1: gre-proto-0x88be, length 40', 'IPv4 other'],
  ['07:05:01.123456 ARP, Request who-has 198.18.1.2 tell 198.18.1.1, length 28', 'other'],
];

t.test('lineProtocol', async (t) => {
  for (const [line, protocol] of rows) t.equal(lineProtocol(line), protocol, line);
});

t.test('countProtocols and formatCounts: most packets first, blank lines ignored', async (t) => {
  const lines = [rows[0]![0], rows[1]![0], rows[3]![0], '', rows[5]![0], rows[0]![0]];
  const counts = countProtocols(lines);
  t.same([...counts], [['TCP', 3], ['ICMP', 1], ['ICMPv6', 1]]);
  t.equal(formatCounts(counts), 'TCP 3, ICMP 1, ICMPv6 1');
  t.equal(formatCounts(countProtocols([])), '');
});
