/**
 * Test peer (runs inside a namespace via `ip netns exec ... node udp-sender.js`):
 * sends `count` UDP datagrams numbered 0..count-1 to dst:port, round-robin over
 * `flows` sockets (distinct source ports), and prints `{"sent":N}`.
 *
 * Payload: u32 sequence number, u32 flow index, then zero padding to `size`.
 * Bounded: at most `window` sends in flight, and a hard time limit.
 *
 *   node udp-sender.js DST PORT COUNT FLOWS SIZE [PPS]
 */
import dgram from 'node:dgram';

const [dst, portText, countText, flowsText, sizeText, ppsText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const flows = Number(flowsText);
const size = Math.max(8, Number(sizeText));
const pps = ppsText === undefined ? 0 : Number(ppsText);
const family = dst!.includes(':') ? 'udp6' : 'udp4';
const window = 64;
const deadline = Date.now() + 60_000;

const sockets = await Promise.all(
  Array.from({ length: flows }, () => new Promise<dgram.Socket>((resolve) => {
    const s = dgram.createSocket(family);
    s.bind(0, () => resolve(s));
  })),
);

let sent = 0;
let errors = 0;
let inFlight = 0;
let wake: (() => void) | undefined;
const done = (err: Error | null): void => {
  inFlight--;
  if (err) errors++;
  wake?.();
};
const start = Date.now();
for (let i = 0; i < count && Date.now() < deadline; i++) {
  while (inFlight >= window) await new Promise<void>((r) => (wake = r));
  if (pps > 0) {
    const due = start + (i * 1000) / pps;
    if (due > Date.now() + 1) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(i, 0);
  buf.writeUInt32BE(i % flows, 4);
  inFlight++;
  sockets[i % flows]!.send(buf, port, dst!, done);
  sent++;
}
while (inFlight > 0) await new Promise<void>((r) => (wake = r));
for (const s of sockets) s.close();
process.stdout.write(JSON.stringify({ sent: sent - errors, errors }) + '\n');
