/**
 * A raw NETLINK_ROUTE socket for make-seeds.ts: sends one request and keeps every
 * datagram of the answer byte for byte (dump parts, the NLMSG_DONE, NLMSG_ERROR with
 * its echoed request and extended-ack TLVs), which core's NetlinkSocket consumes
 * without handing out. Built on core's libc bindings; the socket belongs to the
 * network namespace of the thread that opened it.
 */
import { sys } from '../../src/libc.js';
import {
  AF_NETLINK,
  MSG_PEEK,
  MSG_TRUNC,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  NLMSG_DONE,
  NLMSG_ERROR,
  SO_RCVTIMEO,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from '../../src/constants.js';
import { HOST_LITTLE_ENDIAN, parseMessages } from '../../src/netlink/message.js';

/** Socket options that shape the kernel's error replies. */
export interface CaptureOptions {
  /** NETLINK_EXT_ACK: error replies carry the kernel's text (NLMSGERR_ATTR_MSG...). */
  extAck: boolean;
  /** NETLINK_CAP_ACK: error replies echo only the request's header, not all of it. */
  capAck: boolean;
}

/** A NETLINK_ROUTE socket that records whole reply datagrams. */
export class CaptureSocket {
  private constructor(private fd: number) {}

  /** Opens and binds the socket (receive timeout 2 s). */
  static open(options: CaptureOptions): CaptureSocket {
    const fd = sys.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new Error('socket(AF_NETLINK) failed');
    const socket = new CaptureSocket(fd);
    try {
      // struct sockaddr_nl, <linux/netlink.h>: nl_family u16, nl_pad u16, nl_pid u32, nl_groups u32.
      const addr = new Uint8Array(12);
      new DataView(addr.buffer).setUint16(0, AF_NETLINK, HOST_LITTLE_ENDIAN);
      if (sys.bind(fd, addr, addr.length) < 0) throw new Error('bind(AF_NETLINK) failed');
      socket.option(SOL_NETLINK, NETLINK_EXT_ACK, new Int32Array([options.extAck ? 1 : 0]));
      socket.option(SOL_NETLINK, NETLINK_CAP_ACK, new Int32Array([options.capAck ? 1 : 0]));
      // struct timeval: tv_sec, tv_usec (64-bit longs).
      socket.option(SOL_SOCKET, SO_RCVTIMEO, new BigInt64Array([2n, 0n]));
    } catch (e) {
      socket.close();
      throw e;
    }
    return socket;
  }

  /**
   * Sends `request` and returns every datagram received until one holds the
   * NLMSG_DONE or NLMSG_ERROR that ends the answer to its sequence number.
   */
  exchange(request: Uint8Array): Uint8Array[] {
    const seq = new DataView(request.buffer, request.byteOffset).getUint32(8, HOST_LITTLE_ENDIAN);
    if (sys.send(this.fd, request, request.length, 0) !== request.length) throw new Error('send(netlink) failed');
    const datagrams: Uint8Array[] = [];
    for (;;) {
      const size = sys.recv(this.fd, new Uint8Array(16), 16, MSG_PEEK | MSG_TRUNC);
      if (size <= 0) throw new Error(`recv(netlink) returned ${size} before the answer ended`);
      const buf = new Uint8Array(size);
      if (sys.recv(this.fd, buf, size, 0) !== size) throw new Error('recv(netlink) lost part of a datagram');
      datagrams.push(buf);
      if (parseMessages(buf).some((m) => m.seq === seq && (m.type === NLMSG_DONE || m.type === NLMSG_ERROR))) return datagrams;
    }
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.fd >= 0) sys.close(this.fd);
    this.fd = -1;
  }

  private option(level: number, name: number, value: Int32Array | BigInt64Array): void {
    if (sys.setsockopt(this.fd, level, name, value, value.byteLength) < 0) throw new Error(`setsockopt(${level}, ${name}) failed`);
  }
}
