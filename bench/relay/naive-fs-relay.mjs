#!/usr/bin/env node
/**
 * The relay a Node user without tunpipe would write: the forwarder-contract
 * counterpart of `cfwd -m plain` built from what Node offers, for the relay
 * suite (/work/shared/bench, contract in its README).
 *
 * Node cannot attach a file descriptor to a TUN interface by itself (there is
 * no TUNSETIFF in `fs`), so this uses koffi for exactly one thing, the
 * `ioctl(fd, TUNSETIFF, &ifreq)` on a `/dev/net/tun` fd opened with
 * `fs.openSync`. Everything after that is plain `fs.read` / `fs.write` on the
 * fd: one read outstanding per direction, each packet written to the other
 * device before the next read is issued. No offload, no batching, no worker
 * threads of its own: the reads and writes run on libuv's thread pool.
 *
 *   node bench/relay/naive-fs-relay.mjs
 *
 * Creates $TUN_A and $TUN_B (default tunA/tunB; IFF_TUN | IFF_NO_PI, blocking
 * fds, as `fs.openSync` gives them), prints READY, relays until SIGTERM, then
 * prints its counters to stderr and exits. A blocking read() on a TUN fd
 * cannot be interrupted (DESIGN.md): `process.exit()` hangs waiting for the
 * two pool threads parked in read() (verified here), so the relay ends itself
 * with SIGKILL after printing, which is what such a program has to do.
 */
import { openSync, read, write } from 'node:fs';
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const ioctl = libc.func('int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)');

// <linux/if_tun.h>: TUNSETIFF = _IOW('T', 202, int); flags IFF_TUN, IFF_NO_PI.
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
// struct ifreq, <linux/if.h>: char ifr_name[IFNAMSIZ=16]; union { short ifr_flags; ... } (40 bytes on x86-64)
const IFREQ_SIZE = 40;
const IFR_FLAGS = 16;

/** Opens /dev/net/tun with fs and attaches it to the TUN interface `name` (created if missing). */
function openTunFd(name) {
  const fd = openSync('/dev/net/tun', 'r+');
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(name, 0, 15, 'latin1');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFR_FLAGS);
  if (ioctl(fd, TUNSETIFF, ifr) < 0) {
    throw new Error(`TUNSETIFF ${name}: errno ${koffi.errno()}`);
  }
  return fd;
}

const counters = { ab: { packets: 0, bytes: 0, writeErrors: 0 }, ba: { packets: 0, bytes: 0, writeErrors: 0 } };
let stopping = false;

/** Reads one packet at a time from `from` with fs.read and writes it to `to` with fs.write. */
function pump(from, to, count) {
  const buffer = Buffer.allocUnsafe(65536);
  const next = () => {
    if (stopping) return;
    read(from, buffer, 0, buffer.length, null, (readError, n) => {
      if (readError) {
        if (!stopping) process.stderr.write(`naive-fs-relay: read: ${readError.code}\n`);
        return;
      }
      write(to, buffer, 0, n, null, (writeError) => {
        if (writeError) count.writeErrors++;
        else {
          count.packets++;
          count.bytes += n;
        }
        next();
      });
    });
  };
  next();
}

const a = openTunFd(process.env.TUN_A ?? 'tunA');
const b = openTunFd(process.env.TUN_B ?? 'tunB');
pump(a, b, counters.ab);
pump(b, a, counters.ba);
process.stdout.write('READY\n');

const stop = () => {
  stopping = true;
  const line = (dir, c) => `${dir} ${c.packets} pkts ${c.bytes} B, write errors ${c.writeErrors}`;
  process.stderr.write(`naive-fs-relay: ${line('A->B', counters.ab)}; ${line('B->A', counters.ba)}\n`);
  // process.exit() would wait forever for the thread-pool threads blocked in read().
  process.kill(process.pid, 'SIGKILL');
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
