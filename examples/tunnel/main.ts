/**
 * One end of a point-to-point tunnel: a TUN device whose packets travel as
 * msgpack frames over a TCP connection to the other end.
 *
 *   node examples/dist/tunnel/main.js --listen 198.18.10.2:7000 --name tpt0 --addr 198.18.30.2/24 --addr fd00:30::2/64
 *   node examples/dist/tunnel/main.js --connect 198.18.10.2:7000 --name tpt0 --addr 198.18.30.1/24 --addr fd00:30::1/64
 *
 * Runs until Ctrl-C / SIGTERM or until the other end goes away, then prints what
 * it carried and removes its device. Exit status 0, or 1 with `tunnel: CODE: message`.
 */
import { parseArgs } from 'node:util';
import { openTun } from '@tunpipe/streams';
import { missingPrivileges } from '../lib/privileges.js';
import { formatEndpoint, parseCidr, parseEndpoint } from './endpoint.js';
import { acceptOne, carryPackets, connectWithRetry, type TunnelCounters } from './tunnel.js';
import { runMain } from '../lib/run-main.js';

const USAGE = 'usage: tunnel (--listen HOST:PORT | --connect HOST:PORT) --addr CIDR [--addr CIDR] [--name tpt0] [--route CIDR]... [--mtu 1500] [--no-offload] [--stats-interval MS]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      connect: { type: 'string' },
      name: { type: 'string', default: 'tpt0' },
      addr: { type: 'string', multiple: true, default: [] },
      route: { type: 'string', multiple: true, default: [] },
      mtu: { type: 'string' },
      'no-offload': { type: 'boolean', default: false },
      'stats-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ((values.listen === undefined) === (values.connect === undefined) || values.addr.length === 0) {
    console.error(`tunnel: ERR_TUN_INVALID_ARGUMENT: ${USAGE}`);
    return 2;
  }
  const missing = missingPrivileges();
  if (missing) {
    console.error(`tunnel: ${missing}`);
    return 1;
  }
  const endpoint = parseEndpoint(values.listen ?? values.connect!);
  const addrs = values.addr.map(parseCidr);
  const v4 = addrs.find((a) => !a.v6);
  const offload = !values['no-offload'];
  await using tun = await openTun({
    name: values.name,
    ...(v4 ? { ipv4: { address: v4.address, prefix: v4.prefix } } : {}),
    ipv6: addrs.filter((a) => a.v6).map(({ address, prefix }) => ({ address, prefix })),
    ...(values.mtu === undefined ? {} : { mtu: Number(values.mtu) }),
    routes: values.route,
    offload,
    mode: offload ? 'keep' : 'split',
  });
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort(new Error(sig)));
  console.log(`tunnel: ${tun.device.name()} up (${values.addr.join(' ')})${offload ? ', offload on: superpackets cross whole' : ''}`);

  let socket;
  try {
    if (values.listen !== undefined) {
      socket = await acceptOne(endpoint, { signal: stop.signal, onListening: () => console.log(`tunnel: listening on ${formatEndpoint(endpoint)}`) });
      console.log(`tunnel: connected from ${socket.remoteAddress}:${socket.remotePort}`);
    } else {
      socket = await connectWithRetry(endpoint, { signal: stop.signal });
      console.log(`tunnel: connected to ${formatEndpoint(endpoint)}`);
    }
  } catch (e) {
    if (stop.signal.aborted) return 0;
    throw e;
  }
  let timer: NodeJS.Timeout | undefined;
  const onCounters = (read: () => TunnelCounters): void => {
    if (values['stats-interval'] === undefined) return;
    timer = setInterval(() => {
      const c = read();
      const d = tun.stats();
      console.log(`tunnel: frames out ${c.framesOut} (${c.bytesOut} B), in ${c.framesIn} (${c.bytesIn} B); device read ${d.rxPackets}, written ${d.txPackets}, malformed ${d.malformed}, ring full ${d.ringFull}`);
    }, Number(values['stats-interval']));
  };
  const result = await carryPackets(tun, socket, { signal: stop.signal, onCounters });
  clearInterval(timer);
  const why = result.reason === 'aborted' ? 'stopped' : result.reason === 'peer-closed' ? 'the other end closed the connection' : 'failed';
  console.log(`tunnel: ${why}; sent ${result.framesOut} frames (${result.bytesOut} bytes), received ${result.framesIn} frames (${result.bytesIn} bytes)`);
  if (result.reason === 'error') throw result.error;
  return 0;
}

runMain('tunnel', main);
