/**
 * Test peer: sends raw IP packets out of interface IFNAME through an AF_PACKET
 * socket (packet(7), SOCK_RAW: a TUN link has no header, so the frame is the IP packet), so that the TUN device's reader
 * receives exactly these bytes, lies included. With PACKET_VNET_HDR each packet
 * is preceded by the struct virtio_net_hdr given (superpackets with any GSO
 * fields). Reads a JSON array of `{hdr?: hex, packet: hex}` from FILE; prints
 * `{"accepted":[true|errno,...]}` (sendto's verdict per packet).
 *
 *   node packet-inject.js IFNAME FILE
 */
import { readFileSync } from 'node:fs';
import { sys, errno } from '@tunpipe/core';

const [ifname, file] = process.argv.slice(2);
const packets = JSON.parse(readFileSync(file!, 'utf8')) as { hdr?: string; packet: string }[];
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOL_PACKET = 263;
const PACKET_VNET_HDR = 15;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const htons = (v: number) => ((v & 0xff) << 8) | (v >> 8);

const ifindex = sys.ifNameToIndex(ifname!);
if (ifindex === 0) throw new Error(`no interface ${ifname}`);
const plain = sys.socket(AF_PACKET, SOCK_RAW, 0);
const vnet = sys.socket(AF_PACKET, SOCK_RAW, 0);
if (plain < 0 || vnet < 0) throw new Error(`socket(AF_PACKET) failed: errno ${errno()}`);
if (sys.setsockopt(vnet, SOL_PACKET, PACKET_VNET_HDR, Int32Array.of(1), 4) < 0) throw new Error(`PACKET_VNET_HDR: errno ${errno()}`);

/** struct sockaddr_ll, <linux/if_packet.h>: family u16, protocol be16, ifindex i32, hatype u16, pkttype u8, halen u8, addr[8]. */
function sockaddr(protocol: number): Uint8Array {
  const a = new Uint8Array(20);
  const v = new DataView(a.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, htons(protocol), true);
  v.setInt32(4, ifindex, true);
  return a;
}

const accepted: (true | number)[] = [];
for (const p of packets) {
  const body = Buffer.from(p.packet, 'hex');
  const frame = p.hdr === undefined ? body : Buffer.concat([Buffer.from(p.hdr, 'hex'), body]);
  const protocol = body[0]! >> 4 === 6 ? ETH_P_IPV6 : ETH_P_IP;
  const addr = sockaddr(protocol);
  const r = sys.sendto(p.hdr === undefined ? plain : vnet, frame, frame.length, 0, addr, addr.length);
  accepted.push(r >= 0 ? true : errno());
}
sys.close(plain);
sys.close(vnet);
process.stdout.write(`${JSON.stringify({ accepted })}\n`);
