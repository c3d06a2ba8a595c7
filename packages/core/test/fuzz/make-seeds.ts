/**
 * Regenerates the seed files in test/fuzz/seeds/ (run by hand, never by the fuzzers):
 *
 *   node packages/core/dist/test/fuzz/make-seeds.js [text] [netlink]   (default: both)
 *
 * `text` writes address-text.json from address-seeds.ts. `netlink` (root) builds a
 * private namespace `tp-seeds-<pid>-<n>` holding a TUN, a TAP and a veth pair with
 * addresses from 198.18.0.0/15 and fd00::/8 and a few routes, then asks its kernel
 * through raw NETLINK_ROUTE sockets for link, address and route dumps, a link by
 * name, and requests it refuses (capped and uncapped NLMSG_ERROR, with and without
 * extended-ack text), and saves every datagram of every answer as hex in
 * netlink-replies.json. The namespace is deleted in a finally.
 */
import { writeFileSync } from 'node:fs';
import { Netns, toHex } from '@tunpipe/testkit';
import { parseIPv4 } from '../../src/address.js';
import {
  IFA_ADDRESS,
  IFA_LOCAL,
  IFLA_IFNAME,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RT_SCOPE_LINK,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTPROT_STATIC,
} from '../../src/constants.js';
import { writeIfaddrmsg } from '../../src/netlink/addr.js';
import { writeIfinfomsg } from '../../src/netlink/link.js';
import { MessageBuilder } from '../../src/netlink/message.js';
import { writeRtmsg } from '../../src/netlink/route.js';
import { ADDRESS_SEEDS } from './address-seeds.js';
import { CaptureSocket } from './netlink-capture.js';
import { SEED_DIR, type SavedReply } from './seeds.js';

const write = (name: string, value: unknown): void => writeFileSync(SEED_DIR + name, JSON.stringify(value, null, 1) + '\n');

/** The namespace's devices and addresses (`ip -n <ns> ...` argument lists). */
const SETUP: string[][] = [
  ['tuntap', 'add', 'dev', 'tp-tun0', 'mode', 'tun'],
  ['tuntap', 'add', 'dev', 'tp-tap0', 'mode', 'tap', 'multi_queue'],
  ['link', 'add', 'tp-veth0', 'type', 'veth', 'peer', 'name', 'tp-veth1'],
  ['link', 'set', 'tp-tap0', 'address', '02:00:5e:10:00:01', 'mtu', '9000'],
  ['addr', 'add', '198.18.0.1', 'peer', '198.18.0.2/32', 'dev', 'tp-tun0'],
  ['addr', 'add', 'fd00::1/64', 'dev', 'tp-tun0', 'nodad'],
  ['addr', 'add', '198.18.1.1/24', 'brd', '+', 'dev', 'tp-veth0'],
  ['addr', 'add', 'fd00:1::1/64', 'dev', 'tp-veth0', 'nodad'],
  ['addr', 'add', '198.18.1.2/24', 'dev', 'tp-veth1'],
  ['addr', 'add', '198.18.2.1/23', 'dev', 'tp-tap0', 'label', 'tp-tap0:x'],
  ['link', 'set', 'tp-tun0', 'up'],
  ['link', 'set', 'tp-tap0', 'up'],
  ['link', 'set', 'tp-veth0', 'up'],
  ['link', 'set', 'tp-veth1', 'up'],
  ['route', 'add', '198.18.4.0/24', 'via', '198.18.1.2', 'dev', 'tp-veth0', 'metric', '7'],
  ['route', 'add', 'fd00:4::/64', 'via', 'fd00:1::2', 'dev', 'tp-veth0', 'table', '1000'],
  ['route', 'add', '198.18.5.0/24', 'dev', 'tp-tun0'],
];

/** Captures every answer the seeds need from the kernel of `ns`. */
function capture(ns: Netns): SavedReply[] {
  const index = (name: string): number => (ns.ipJsonSync('link', 'show', name) as Array<{ ifindex: number }>)[0]!.ifindex;
  const veth = index('tp-veth0');
  const tun = index('tp-tun0');
  let full: CaptureSocket;
  let echo: CaptureSocket;
  let bare: CaptureSocket;
  {
    using _ = ns.enter();
    full = CaptureSocket.open({ extAck: true, capAck: true }); // what core's NetlinkSocket sets
    echo = CaptureSocket.open({ extAck: true, capAck: false });
    bare = CaptureSocket.open({ extAck: false, capAck: false });
  }
  const saved: SavedReply[] = [];
  let seq = 1000;
  const b = new MessageBuilder(512);
  const ask = (socket: CaptureSocket, what: string, build: (b: MessageBuilder) => void, type: number, flags: number): void => {
    b.begin(type, NLM_F_REQUEST | flags, ++seq);
    build(b);
    const datagrams = socket.exchange(b.finish());
    datagrams.forEach((d, i) => saved.push({ what: `${what} (datagram ${i + 1} of ${datagrams.length})`, hex: toHex(d) }));
  };
  const badPrefix = (x: MessageBuilder): void => {
    writeIfaddrmsg(x, { family: 4, prefix: 33, index: veth });
    x.attr(IFA_LOCAL, parseIPv4('198.18.1.9'));
    x.attr(IFA_ADDRESS, parseIPv4('198.18.1.9'));
  };
  const missingAddress = (x: MessageBuilder): void => {
    writeIfaddrmsg(x, { family: 4, prefix: 24, index: veth });
    x.attr(IFA_LOCAL, parseIPv4('198.18.1.99'));
  };
  const onLinkRoute = (x: MessageBuilder): void => {
    writeRtmsg(x, { family: 4, dstLen: 24, table: 254, protocol: RTPROT_STATIC, scope: RT_SCOPE_LINK, type: RTN_UNICAST });
    x.attr(RTA_DST, parseIPv4('198.18.6.0'));
    x.attrU32(RTA_OIF, tun);
  };
  const shortGateway = (x: MessageBuilder): void => {
    writeRtmsg(x, { family: 4, dstLen: 24, table: 254, protocol: RTPROT_STATIC, type: RTN_UNICAST });
    x.attr(RTA_DST, parseIPv4('198.18.7.0'));
    x.attr(RTA_GATEWAY, Uint8Array.of(198, 18)); // a u32 attribute of 2 bytes: the policy check names it
    x.attrU32(RTA_OIF, veth);
  };
  try {
    ask(full, 'RTM_GETLINK dump', (x) => writeIfinfomsg(x, { index: 0 }), RTM_GETLINK, NLM_F_DUMP);
    ask(full, 'RTM_GETLINK tp-tap0 by name, acked', (x) => {
      writeIfinfomsg(x, { index: 0 });
      x.attrString(IFLA_IFNAME, 'tp-tap0');
    }, RTM_GETLINK, NLM_F_ACK);
    ask(full, 'RTM_GETLINK of a missing ifindex (ENODEV)', (x) => writeIfinfomsg(x, { index: 0x7ffffff0 }), RTM_GETLINK, NLM_F_ACK);
    ask(full, 'RTM_GETADDR dump', (x) => x.reserve(8), RTM_GETADDR, NLM_F_DUMP);
    ask(full, 'RTM_GETROUTE dump, every table', (x) => writeRtmsg(x, { family: 0 }), RTM_GETROUTE, NLM_F_DUMP);
    ask(full, 'RTM_NEWROUTE 198.18.6.0/24 dev tp-tun0 (ACK)', onLinkRoute, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ask(full, 'RTM_NEWROUTE again (EEXIST, capped, ext ack)', onLinkRoute, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ask(full, 'RTM_DELADDR of a missing address (EADDRNOTAVAIL, capped, ext ack)', missingAddress, RTM_DELADDR, NLM_F_ACK);
    ask(bare, 'RTM_DELADDR of a missing address (EADDRNOTAVAIL, whole request echoed)', missingAddress, RTM_DELADDR, NLM_F_ACK);
    ask(full, 'RTM_NEWADDR with prefix 33 (EINVAL, capped, ext ack)', badPrefix, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ask(echo, 'RTM_NEWADDR with prefix 33 (EINVAL, whole request echoed, ext ack)', badPrefix, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ask(bare, 'RTM_NEWADDR with prefix 33 (EINVAL, whole request echoed)', badPrefix, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ask(full, 'RTM_NEWROUTE with a 2-byte RTA_GATEWAY (ERANGE, capped, ext ack naming the attribute)', shortGateway, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ask(echo, 'RTM_NEWROUTE with a 2-byte RTA_GATEWAY (ERANGE, whole request echoed, ext ack)', shortGateway, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  } finally {
    full.close();
    echo.close();
    bare.close();
  }
  return saved;
}

/** Builds the namespace, captures, and deletes the namespace whatever happened. */
async function makeNetlinkSeeds(): Promise<void> {
  const teardowns: Array<() => unknown> = [];
  try {
    const ns = Netns.create({ teardown: (fn) => teardowns.push(fn) }, 'seeds');
    for (const args of SETUP) ns.ipSync(...args);
    const saved = capture(ns);
    write('netlink-replies.json', saved);
    console.log(`wrote ${saved.length} kernel datagrams (${saved.reduce((n, s) => n + s.hex.length / 2, 0)} bytes) to ${SEED_DIR}netlink-replies.json`);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

const which = process.argv.slice(2);
if (which.length === 0 || which.includes('text')) {
  write('address-text.json', ADDRESS_SEEDS);
  console.log(`wrote ${Object.values(ADDRESS_SEEDS).flat().length} strings to ${SEED_DIR}address-text.json`);
}
if (which.length === 0 || which.includes('netlink')) await makeNetlinkSeeds();
