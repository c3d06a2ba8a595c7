/**
 * Offload policy, judged by what the kernel hands the reader. A UDP_SEGMENT send
 * of 4 x 1000 bytes from inside the namespace reaches the device either as one
 * superpacket (offload on: with a virtio-net header saying UDP_L4) or as four
 * ordinary packets (offload off). A persistent device keeps the offload mask of
 * its previous user; a non-offload user must clear it, or it receives
 * superpackets it cannot parse (tun-rs #141). The control case shows that.
 */
import t, { type Test } from 'tap';
import { createNetns, requireNetAdmin, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';
import { Device } from '../src/device.js';
import { sys, errno } from '../src/libc.js';
import { attachTun, openTunClone } from '../src/tun-fd.js';
import { IFF_TUN, IFF_NO_PI } from '../src/constants.js';
import { summarize, PROTO_UDP } from './support/packets.js';

/** <sys/socket.h>, <netinet/udp.h> (UDP_SEGMENT, Linux >= 4.18). */
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SOL_UDP = 17;
const UDP_SEGMENT = 103;

const SEGMENT = 1000;
const SEGMENTS = 4;

/**
 * Sends SEGMENTS x SEGMENT bytes to `to`:9 (default 198.18.0.2) as ONE sendto with UDP_SEGMENT,
 * from a socket in `ns` (the calling thread enters it for the socket() call).
 */
function sendSegmented(ns: Netns, to: readonly number[] = [198, 18, 0, 2]): void {
  let fd: number;
  {
    using _ = ns.enter();
    fd = sys.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) throw new Error(`socket: errno ${errno()}`);
  try {
    if (sys.setsockopt(fd, SOL_UDP, UDP_SEGMENT, new Int32Array([SEGMENT]), 4) < 0) throw new Error(`UDP_SEGMENT: errno ${errno()}`);
    // struct sockaddr_in, <netinet/in.h>: family (host order), port and address (network order).
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    sa.set([0, 9, ...to], 2);
    const payload = new Uint8Array(SEGMENT * SEGMENTS).fill(0x61);
    const sent = sys.sendto(fd, payload, payload.length, 0, sa, sa.length);
    if (sent !== payload.length) throw new Error(`sendto: ${sent}, errno ${errno()}`);
  } finally {
    sys.close(fd);
  }
}

/** Sizes of the UDP packets (IP length) read until `total` payload bytes arrived; bounded. */
async function udpSizes(dev: Device, headerLen: number, to = '198.18.0.2'): Promise<number[]> {
  const buf = new Uint8Array(70_000);
  const sizes: number[] = [];
  let payload = 0;
  for (let i = 0; i < 100 && payload < SEGMENT * SEGMENTS; i++) {
    const n = await dev.recv(buf, { timeout: 3000 });
    const ip = summarize(buf.subarray(headerLen), n - headerLen);
    if (ip?.protocol !== PROTO_UDP || ip.dst !== to) continue;
    sizes.push(ip.length);
    payload += ip.length - ip.l4 - 8;
  }
  return sizes;
}

function buildIn(t: Test, ns: Netns, configure: (b: DeviceBuilder) => DeviceBuilder): Device {
  let dev: Device;
  {
    using _ = ns.enter();
    dev = configure(new DeviceBuilder()).build();
  }
  t.teardown(() => dev.close());
  return dev;
}

t.test('offload on: one UDP_L4 superpacket with its virtio-net header', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'gsoon');
  const dev = buildIn(t, ns, (b) => b.name('tpgso0').offload(true).ipv4('198.18.0.1', 24));
  t.equal(dev.udpGso(), true);
  sendSegmented(ns);
  const buf = new Uint8Array(70_000);
  let found = false;
  for (let i = 0; i < 100 && !found; i++) {
    const n = await dev.recv(buf, { timeout: 3000 });
    const ip = summarize(buf.subarray(10), n - 10);
    if (ip?.protocol !== PROTO_UDP || ip.dst !== '198.18.0.2') continue;
    found = true;
    const hdr = new DataView(buf.buffer, 0, 10);
    t.equal(hdr.getUint8(1), 5, 'gso_type VIRTIO_NET_HDR_GSO_UDP_L4');
    t.equal(hdr.getUint16(4, true), SEGMENT, 'gso_size = the segment size');
    t.equal(ip.length, 20 + 8 + SEGMENT * SEGMENTS, 'all four segments in one packet');
  }
  t.ok(found, 'the superpacket arrived');
});

t.test('offload off on a persistent device that had it on: the mask is cleared (tun-rs #141)', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'gso141');
  const first = buildIn(t, ns, (b) => b.name('tpgso1').persist(true).offload(true).ipv4('198.18.0.1', 24));
  t.teardown(() => ns.ip('link', 'del', 'tpgso1').catch(() => undefined));
  t.equal(first.udpGso(), true, 'first user: offload on');
  first.close();

  const second = buildIn(t, ns, (b) => b.name('tpgso1').offload(false));
  t.equal(second.tcpGso(), false);
  sendSegmented(ns);
  const sizes = await udpSizes(second, 0);
  t.same(sizes, Array(SEGMENTS).fill(20 + 8 + SEGMENT), 'four ordinary packets, none larger than the MTU');
  second.close();

  // Control: a persistent device left with offload on, reattached the way a
  // library that leaves the mask alone would (Device.fromFd without `offload`).
  const prior = buildIn(t, ns, (b) => b.name('tpgso3').persist(true).offload(true));
  t.teardown(() => ns.ip('link', 'del', 'tpgso3').catch(() => undefined));
  prior.close();
  let fd: number;
  {
    using _ = ns.enter();
    fd = openTunClone();
  }
  attachTun(fd, 'tpgso3', IFF_TUN | IFF_NO_PI);
  const stale = Device.fromFd(fd);
  t.teardown(() => stale.close());
  stale.addAddressV4('198.18.3.1', 24);
  stale.enabled(true);
  sendSegmented(ns, [198, 18, 3, 2]);
  const control = await udpSizes(stale, 0, '198.18.3.2');
  t.same(control, [20 + 8 + SEGMENT * SEGMENTS], 'control: without clearing, the reader gets one 4 KB superpacket');
});
