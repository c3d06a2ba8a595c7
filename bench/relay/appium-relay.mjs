#!/usr/bin/env node
/**
 * A TUN<->TUN relay on `appium-ios-tuntap` (the TUN addon on npm), for the
 * relay suite (/work/shared/bench, forwarder contract in its README). The
 * package is not a workspace dependency: bench/run.mjs installs it into a
 * scratch directory and passes that directory here.
 *
 *   node bench/relay/appium-relay.mjs --from DIR     # DIR/node_modules/appium-ios-tuntap
 *
 * Its Linux backend opens `IFF_TUN | IFF_NO_PI` devices with non-blocking fds;
 * `read(maxSize)` returns one packet as a new Buffer, or an empty Buffer when
 * none is queued, and the API offers nothing to wait on. So the relay does what
 * the addon allows: each event-loop turn moves up to 64 packets per direction
 * (read, then write to the other device) and schedules the next turn with
 * setImmediate: a busy poll, which shows as ~100 % forwarder CPU.
 * Creates $TUN_A and $TUN_B (default tunA/tunB), prints READY, relays until
 * SIGTERM, prints its counters to stderr and exits.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { from: { type: 'string' } } });
if (!values.from) {
  process.stderr.write('usage: appium-relay.mjs --from DIR (DIR/node_modules/appium-ios-tuntap)\n');
  process.exit(2);
}
const entry = createRequire(join(values.from, 'package.json')).resolve('appium-ios-tuntap');
const { TunTap } = await import(pathToFileURL(entry).href);

const PER_TURN = 64;
const MAX_PACKET = 65535;
const a = new TunTap(process.env.TUN_A ?? 'tunA');
const b = new TunTap(process.env.TUN_B ?? 'tunB');
a.open();
b.open();
const counters = { ab: 0, ba: 0, turns: 0, idleTurns: 0, writeErrors: 0 };

/** Moves up to PER_TURN packets from one device to the other; returns how many. */
function move(from, to) {
  let n = 0;
  for (; n < PER_TURN; n++) {
    const packet = from.read(MAX_PACKET);
    if (packet.length === 0) break;
    // write() throws on any failed write(2), e.g. EIO while the other device is
    // still down (the harness brings the links up after READY): count and go on.
    try {
      to.write(packet);
    } catch {
      counters.writeErrors++;
    }
  }
  return n;
}

let stopping = false;
function turn() {
  if (stopping) return;
  const ab = move(a, b);
  const ba = move(b, a);
  counters.ab += ab;
  counters.ba += ba;
  counters.turns++;
  if (ab + ba === 0) counters.idleTurns++;
  setImmediate(turn);
}
process.stdout.write('READY\n');
setImmediate(turn);

const stop = () => {
  stopping = true;
  process.stderr.write(`appium-relay: A->B ${counters.ab} pkts, B->A ${counters.ba} pkts, ` +
    `${counters.turns} turns (${counters.idleTurns} idle), write errors ${counters.writeErrors}\n`);
  a.close();
  b.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
