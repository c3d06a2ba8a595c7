/**
 * Test peer, run inside a namespace: binds ADDRESS:PORT, prints `listening`,
 * counts datagrams until EXPECT arrived or IDLE_MS passed without one after the
 * first (30 s at most), then prints `{"received":N,"seqs":[...]}` (each
 * datagram's first u32, big-endian).
 *
 *   node udp-count.js ADDRESS PORT EXPECT [IDLE_MS]
 */
import dgram from 'node:dgram';

const [address, portText, expectText, idleText] = process.argv.slice(2);
const expect = Number(expectText);
const idleMs = Number(idleText ?? 1000);
const sock = dgram.createSocket(address!.includes(':') ? 'udp6' : 'udp4');
const seqs: number[] = [];
let timer: NodeJS.Timeout | undefined;
const finish = () => {
  process.stdout.write(`${JSON.stringify({ received: seqs.length, seqs })}\n`);
  clearTimeout(timer);
  clearTimeout(hard);
  sock.close();
};
const hard = setTimeout(finish, 30_000);
sock.on('message', (msg) => {
  seqs.push(msg.length >= 4 ? msg.readUInt32BE(0) : -1);
  clearTimeout(timer);
  if (seqs.length >= expect) finish();
  else timer = setTimeout(finish, idleMs);
});
sock.bind(Number(portText), address, () => process.stdout.write('listening\n'));
