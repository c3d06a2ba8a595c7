/**
 * The fds core opens only for a moment are close-on-exec too: the namespace fd
 * TUNGETDEVNETNS hands out (cloneQueue, fromFd, Device configuration use it) and
 * the raw clone fd from `openTunClone`. The long-lived fds are covered end to end
 * in test/integration/cloexec.test.ts. Oracle: the `flags` line of
 * /proc/self/fdinfo/N (O_CLOEXEC is octal 02000000).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createNetns, requireNetAdmin } from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';
import { deviceNetnsFd, openTunClone, closeQuietly } from '../src/tun-fd.js';
import { O_CLOEXEC } from '../src/constants.js';

/** The O_CLOEXEC bit of an fd's open flags, as /proc reports them. */
function cloexecBit(fd: number): number {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(info)![1]!, 8) & O_CLOEXEC;
}

t.test('openTunClone and TUNGETDEVNETNS return close-on-exec fds', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cxcore');
  using _ = ns.enter();
  const clone = openTunClone();
  try {
    t.equal(cloexecBit(clone), O_CLOEXEC, 'openTunClone: O_CLOEXEC');
  } finally {
    closeQuietly(clone);
  }
  using dev = new DeviceBuilder().name('tpcx9').enable(false).build();
  const nsFd = deviceNetnsFd(dev.fd);
  t.not(nsFd, null, 'the kernel handed out the device namespace fd');
  try {
    t.equal(cloexecBit(nsFd!), O_CLOEXEC, 'TUNGETDEVNETNS: O_CLOEXEC (the kernel opens it so)');
  } finally {
    closeQuietly(nsFd!);
  }
});
