/**
 * The slirp example: a guest namespace whose only network is a TAP device; the
 * TAP device's frames go into libslirp (QEMU's user-mode TCP/IP stack); slirp,
 * restricted, lets the guest reach one thing: an HTTP server on this process's
 * loopback, through a forward on 198.18.0.2:80.
 *
 * ```
 *  namespace G (guest)                  namespace H (this process)
 *  ┌─────────────────────┐   frames    ┌───────────────────────────────────────────┐
 *  │ node http.get       │ ─── TAP ──► │ slirp worker: slirp_input / send_packet   │
 *  │ 198.18.0.15/24      │ ◄────────── │  198.18.0.2:80 ─► unix socket ─► proxy ─┐ │
 *  │ default via .2      │             │                 127.0.0.1:PORT  HTTP ◄──┘ │
 *  └─────────────────────┘             └───────────────────────────────────────────┘
 * ```
 *
 * Run: `node examples/dist/slirp/main.js` (root). It makes namespaces H and G
 * itself. With `--guest NAME` it uses an existing guest namespace NAME and the
 * namespace it was started in as H (the test runs it so). `--libslirp PATH`
 * loads libslirp from PATH instead of the soname `libslirp.so.0`.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeviceBuilder, enterNetns, type Device, type NetnsEntry } from '@tunpipe/core';
import { missingPrivileges } from '../lib/privileges.js';
import { ScratchNetns } from '../lib/scratch-netns.js';
import { LIBSLIRP_SONAME, libSlirpMissing } from './slirp-binding.js';
import { SlirpStack } from './slirp-stack.js';
import { UnixTcpProxy } from './unix-tcp-proxy.js';
import type { FetchResult, ProbeResult } from './guest-client.js';

/** The guest's address, its gateway (the forward) and a forbidden destination. */
const GUEST = { address: '198.18.0.15', prefix: 24, gateway: '198.18.0.2', port: 80, elsewhere: '198.18.1.1:80' };
const TAP_NAME = 'tpslirp0';
const GUEST_CLIENT = fileURLToPath(new URL('./guest-client.js', import.meta.url));

interface Args {
  guest: string | null;
  libslirp: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { guest: null, libslirp: LIBSLIRP_SONAME };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--guest' && argv[i + 1]) args.guest = argv[++i]!;
    else if (argv[i] === '--libslirp' && argv[i + 1]) args.libslirp = argv[++i]!;
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node examples/dist/slirp/main.js [--guest NETNS] [--libslirp PATH]');
      process.exit(0);
    } else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return args;
}

/** Runs `node guest-client.js args...` inside namespace `netns`; resolves with its JSON lines. */
function inGuest<T>(netns: string, args: string[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, GUEST_CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`guest client exited ${code}: ${err.trim()}`));
      else resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T));
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const missing = missingPrivileges();
  if (missing) {
    console.error(`slirp example: ${missing}`);
    return 1;
  }
  const noSlirp = libSlirpMissing(args.libslirp);
  if (noSlirp) {
    console.error(`slirp example: ${noSlirp}`);
    return 1;
  }

  // On Ctrl-C: remove the proxy's socket file, then let the signal end the process
  // (ScratchNetns, if any, deletes the namespaces and re-raises it).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      UnixTcpProxy.removeSocketFilesSync();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }

  // Namespaces: H hosts this process's loopback server, G is the guest.
  const made: ScratchNetns[] = [];
  let inHost: NetnsEntry | null = null;
  let guest = args.guest;
  if (guest === null) {
    const host = new ScratchNetns('slirp-h');
    made.push(host, new ScratchNetns('slirp-g'));
    guest = made[1]!.name;
    inHost = enterNetns(host.name); // the main thread (server, proxy, device) lives in H
    console.log(`namespaces: host ${host.name}, guest ${guest}`);
  }

  let dev: Device | null = null;
  let stack: SlirpStack | null = null;
  const server = createServer();
  try {
    // The page: a fixed greeting and a random token, so a stale or wrong page cannot pass.
    const token = randomBytes(8).toString('hex');
    const page = `<html><body><h1>hello from the host's loopback</h1><p>token ${token}</p></body></html>\n`;
    server.on('request', (_req, res) => res.end(page));
    const port = await listen(server);
    console.log(`HTTP server on 127.0.0.1:${port} (host namespace)`);

    // The TAP device: opened here, moved to the guest, configured there.
    dev = new DeviceBuilder().name(TAP_NAME).layer('l2').enable(false).build();
    dev.moveToNetns(guest);
    dev.addAddressV4(GUEST.address, GUEST.prefix);
    dev.enabled(true);
    dev.addRoute('0.0.0.0/0', { gateway: GUEST.gateway });
    console.log(`${TAP_NAME} in ${guest}: ${GUEST.address}/${GUEST.prefix}, default via ${GUEST.gateway} (its only route)`);

    stack = await SlirpStack.start({
      tapFd: dev.fd,
      libraryPath: args.libslirp,
      forwards: [{ guestAddress: GUEST.gateway, guestPort: GUEST.port, hostPort: port }],
      onGuestError: (m) => console.error(`slirp: guest error: ${m}`),
    });
    console.log(`libslirp ${stack.version}, restricted: only ${GUEST.gateway}:${GUEST.port} -> 127.0.0.1:${port}`);

    const [fetched] = await inGuest<FetchResult>(guest, ['fetch', `http://${GUEST.gateway}:${GUEST.port}/`]);
    console.log(`\nguest GET http://${GUEST.gateway}/ -> ${fetched!.status}\n${fetched!.body}`);
    const [elsewhere] = await inGuest<ProbeResult>(guest, ['probe', GUEST.elsewhere]);
    console.log(`guest connect ${GUEST.elsewhere} -> ${elsewhere!.result} (restricted slirp resets it)`);

    const s = stack.stats();
    console.log(`\nframes guest -> slirp: ${s.framesFromGuest} (${s.bytesFromGuest} B), slirp -> guest: ${s.framesToGuest} (${s.bytesToGuest} B), forwarded connections: ${s.connections}`);
    const ok = fetched!.status === 200 && fetched!.body === page && elsewhere!.result !== 'connected';
    console.log(ok ? 'OK: the page arrived intact through slirp, and nothing else was reachable' : 'FAILED');
    return ok ? 0 : 1;
  } finally {
    await stack?.close();
    dev?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    inHost?.[Symbol.dispose]();
    for (const ns of made) ns.delete();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error & { code?: string }) => {
    console.error(`slirp example: ${err.code ? `${err.code}: ` : ''}${err.message}`);
    process.exitCode = 1;
  },
);
