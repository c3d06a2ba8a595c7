/**
 * Test peer: binds ADDRESS:PORT, prints `listening`, counts datagrams until
 * EXPECT arrived or, after the first, nothing came for IDLE_MS (default 1000), then prints
 * `{"received":N,"bytes":B,"sizes":{...},"badPayload":K,"order":[first seqs]}`.
 * Payload check: byte i of a datagram is (seq + i) & 0xff after the 4-byte
 * sequence number (the pattern `udpPayload()` in the tests writes).
 *
 *   node udp-receiver.js ADDRESS PORT EXPECT [IDLE_MS]
 */
import dgram from 'node:dgram';

const [address, portText, expectText, idleText] = process.argv.slice(2);
const expect = Number(expectText);
const idleMs = Number(idleText ?? 1000);
const sock = dgram.createSocket(address!.includes(':') ? 'udp6' : 'udp4');
let received = 0;
let bytes = 0;
let badPayload = 0;
const sizes: Record<number, number> = {};
const order: number[] = [];
let timer: NodeJS.Timeout | undefined;

function finish(): void {
  process.stdout.write(JSON.stringify({ received, bytes, sizes, badPayload, order }) + '\n');
  sock.close();
  clearTimeout(hard);
}

const hard = setTimeout(finish, 30_000);
const arm = (): void => {
  clearTimeout(timer);
  timer = setTimeout(finish, idleMs);
};

sock.on('message', (msg) => {
  received++;
  bytes += msg.length;
  sizes[msg.length] = (sizes[msg.length] ?? 0) + 1;
  if (msg.length >= 4) {
    const seq = msg.readUInt32BE(0);
    if (order.length < 1000) order.push(seq);
    for (let i = 4; i < msg.length; i++) {
      if (msg[i] !== ((seq + i) & 0xff)) {
        badPayload++;
        break;
      }
    }
  }
  if (received >= expect) {
    clearTimeout(timer);
    finish();
  } else {
    arm();
  }
});
sock.bind(Number(portText), address, () => {
  process.stdout.write('listening\n');
});
