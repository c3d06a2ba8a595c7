/**
 * Test peer, run inside a namespace: sends COUNT UDP datagrams to DST:PORT from
 * FLOWS sockets (distinct source ports, round-robin), each starting with its
 * sequence number (u32 big-endian) and padded to SIZE bytes, then prints
 * `{"sent":N,"errors":E}`. PPS > 0 paces the burst. Bounded: at most 64 sends in
 * flight and 60 s in all.
 *
 *   node udp-burst.js DST PORT COUNT FLOWS SIZE [PPS]
 */
import dgram from 'node:dgram';

const [dst, portText, countText, flowsText, sizeText, ppsText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const flows = Math.max(1, Number(flowsText));
const size = Math.max(4, Number(sizeText));
const pps = Number(ppsText ?? 0);
const deadline = Date.now() + 60_000;
const type = dst!.includes(':') ? 'udp6' : 'udp4';

const sockets = await Promise.all(
  Array.from({ length: flows }, () => new Promise<dgram.Socket>((resolve) => {
    const s = dgram.createSocket(type);
    s.bind(0, () => resolve(s));
  })),
);
let inFlight = 0;
let errors = 0;
let wake: (() => void) | undefined;
const sent = (err: Error | null): void => {
  inFlight--;
  if (err !== null) errors++;
  const w = wake;
  wake = undefined;
  w?.();
};
const start = Date.now();
let n = 0;
for (; n < count && Date.now() < deadline; n++) {
  while (inFlight >= 64) await new Promise<void>((r) => (wake = r));
  if (pps > 0) {
    const due = start + (n * 1000) / pps;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(n, 0);
  inFlight++;
  sockets[n % flows]!.send(buf, port, dst!, sent);
}
while (inFlight > 0) await new Promise<void>((r) => (wake = r));
for (const s of sockets) s.close();
process.stdout.write(JSON.stringify({ sent: n - errors, errors }) + '\n');
