/**
 * Test peer: sends COUNT datagrams of 100 bytes to DST:PORT from one socket,
 * datagram i with first byte i % KINDS (a handler's instruction) and bytes 1..4
 * the sequence number i; counts what comes back, by kind, until IDLE_MS pass
 * without one; prints `{"sent":N,"back":{kind:count}}`. Bounded: 2 ms between
 * sends, a hard limit of 30 s.
 *
 *   node udp-kinds.js DST PORT COUNT KINDS [IDLE_MS]
 */
import dgram from 'node:dgram';

const [dst, portText, countText, kindsText, idleText] = process.argv.slice(2);
const count = Number(countText);
const kinds = Number(kindsText);
const idleMs = Number(idleText ?? 1000);
const sock = dgram.createSocket('udp4');
const back: Record<number, number> = {};
let timer: NodeJS.Timeout | undefined;
const finish = () => {
  process.stdout.write(`${JSON.stringify({ sent: count, back })}\n`);
  sock.close();
  clearTimeout(hard);
  clearTimeout(timer);
};
const hard = setTimeout(finish, 30_000);
sock.on('message', (msg) => {
  back[msg[0]!] = (back[msg[0]!] ?? 0) + 1;
  clearTimeout(timer);
  timer = setTimeout(finish, idleMs);
});
sock.bind(0, async () => {
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(100);
    payload[0] = i % kinds;
    payload.writeUInt32BE(i, 1);
    sock.send(payload, Number(portText), dst);
    await new Promise((r) => setTimeout(r, 2));
  }
  timer = setTimeout(finish, idleMs);
});
