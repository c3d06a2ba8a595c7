/**
 * A NETLINK_ROUTE socket used synchronously: send one request, read its replies
 * until the kernel acknowledges it (NLMSG_ERROR) or ends the dump (NLMSG_DONE).
 *
 * The socket belongs to the network namespace of the thread that opened it, for its
 * whole life. rtnetlink answers a request while `send()` runs, so a reply is queued
 * before `recv()` is called; dumps are produced part by part as they are read. A
 * receive timeout (SO_RCVTIMEO) bounds every wait all the same.
 */
import { TunError, type TunErrorCode } from '@tunpipe/offload';
import { check, errno, osError, sys } from '../libc.js';
import {
  AF_NETLINK,
  EAGAIN,
  EINTR,
  MSG_PEEK,
  MSG_TRUNC,
  NETLINK_EXT_ACK,
  NETLINK_CAP_ACK,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  SO_RCVTIMEO,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from '../constants.js';
import { HOST_LITTLE_ENDIAN, malformed, NLMSG_HDRLEN, parseErrorReply, parseMessages, type NetlinkMessage } from './message.js';

/** Options of `NetlinkSocket.open`. */
export interface NetlinkSocketOptions {
  /** Longest wait for one datagram, in milliseconds. Default 5000. */
  receiveTimeoutMs?: number;
  /** Largest datagram accepted; the receive buffer grows up to this. Default 1 MiB. */
  maxDatagramBytes?: number;
}

/** How `NetlinkSocket.request` reports a kernel error: the code for an errno. */
export type ErrorCodeFor = (errno: number) => TunErrorCode;

/** Called for every reply message (not ACK/DONE) of a request; `buf` is reused after it returns. */
export type MessageHandler = (buf: Uint8Array, msg: NetlinkMessage) => void;

/** What a completed request saw. */
export interface RequestOutcome {
  /** True when a dump part carried NLM_F_DUMP_INTR: the data changed during the dump; repeat it. */
  interrupted: boolean;
}

const INITIAL_BUFFER = 32 * 1024;

/** A bound NETLINK_ROUTE socket that runs one request at a time. */
export class NetlinkSocket {
  /** The socket's file descriptor (-1 once closed). */
  fd: number;
  private seq: number;
  private rx: Uint8Array;
  private readonly maxDatagram: number;
  private readonly sizeProbe = new Uint8Array(NLMSG_HDRLEN);

  private constructor(fd: number, maxDatagram: number) {
    this.fd = fd;
    this.maxDatagram = maxDatagram;
    this.rx = new Uint8Array(Math.min(INITIAL_BUFFER, maxDatagram));
    // Replies are matched by sequence number: start somewhere unlikely to repeat.
    this.seq = (Date.now() & 0x3fffffff) >>> 0;
  }

  /** Opens and binds a NETLINK_ROUTE socket in the calling thread's network namespace. */
  static open(options: NetlinkSocketOptions = {}): NetlinkSocket {
    const timeoutMs = options.receiveTimeoutMs ?? 5000;
    const fd = check(sys.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), 'ERR_TUN_NETLINK', 'socket(AF_NETLINK)');
    try {
      // struct sockaddr_nl, <linux/netlink.h>: nl_family u16, nl_pad u16, nl_pid u32 (0: kernel assigns), nl_groups u32.
      const addr = new Uint8Array(12);
      new DataView(addr.buffer).setUint16(0, AF_NETLINK, HOST_LITTLE_ENDIAN);
      check(sys.bind(fd, addr, addr.length), 'ERR_TUN_NETLINK', 'bind(AF_NETLINK)');
      // Extended acks carry the kernel's reason ("Invalid prefix for given prefix length");
      // capped acks keep error replies small. Both are optional: ignore failures.
      const one = new Int32Array([1]);
      sys.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
      sys.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
      // struct timeval, <bits/types/struct_timeval.h>: tv_sec, tv_usec as 64-bit longs.
      const tv = new BigInt64Array([BigInt(Math.floor(timeoutMs / 1000)), BigInt((timeoutMs % 1000) * 1000)]);
      check(sys.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16), 'ERR_TUN_NETLINK', 'setsockopt(SO_RCVTIMEO)');
    } catch (e) {
      sys.close(fd);
      throw e;
    }
    return new NetlinkSocket(fd, options.maxDatagramBytes ?? 1 << 20);
  }

  /** A fresh sequence number for the next request. */
  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  /**
   * Sends `request` (built with the sequence number from `nextSeq()`), passes every
   * reply message to `onMessage`, and returns once the kernel acknowledged it or
   * ended the dump. A kernel error throws TunError with `codeFor(errno)`, `errno`
   * and `syscall` `netlink(<what>)`; the kernel's extended-ack text, if any, is in
   * the message.
   */
  request(request: Uint8Array, what: string, codeFor: ErrorCodeFor, onMessage?: MessageHandler): RequestOutcome {
    if (this.fd < 0) throw new TunError('ERR_TUN_CLOSED', 'netlink socket is closed');
    const view = new DataView(request.buffer, request.byteOffset, request.byteLength);
    const seq = view.getUint32(8, HOST_LITTLE_ENDIAN);
    const flags = view.getUint16(6, HOST_LITTLE_ENDIAN);
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    if (!dump && (flags & NLM_F_ACK) === 0) {
      throw new TunError('ERR_TUN_NETLINK', `netlink(${what}): a request must ask for an ACK or a dump`);
    }
    const syscall = `netlink(${what})`;
    let sent: number;
    do sent = sys.send(this.fd, request, request.length, 0);
    while (sent < 0 && errno() === EINTR);
    if (sent < 0) throw osError('ERR_TUN_NETLINK', syscall, 'send');

    const outcome: RequestOutcome = { interrupted: false };
    for (;;) {
      const length = this.receive(syscall);
      for (const msg of parseMessages(this.rx, length)) {
        if (msg.seq !== seq) continue; // a stale reply to an earlier, abandoned request
        if ((msg.flags & NLM_F_DUMP_INTR) !== 0) outcome.interrupted = true;
        if (msg.type === NLMSG_ERROR) {
          const reply = parseErrorReply(this.rx, msg);
          if (reply.error === 0) return outcome; // the ACK
          throw kernelError(codeFor, syscall, -reply.error, reply.message);
        }
        if (msg.type === NLMSG_DONE) {
          // A dump ends here; its payload is an int, negative when the dump failed.
          if (msg.end - msg.payload >= 4) {
            const err = new DataView(this.rx.buffer).getInt32(msg.payload, HOST_LITTLE_ENDIAN);
            if (err < 0) throw kernelError(codeFor, syscall, -err, undefined);
          }
          return outcome;
        }
        if (msg.type === NLMSG_NOOP) continue;
        if (msg.type === NLMSG_OVERRUN) throw malformed(`${what}: NLMSG_OVERRUN`);
        onMessage?.(this.rx, msg);
      }
    }
  }

  /** Receives one whole datagram into `rx` (growing it within bounds) and returns its length. */
  private receive(syscall: string): number {
    // Learn the datagram's size first, so that nothing is ever truncated.
    const size = this.recvRetrying(this.sizeProbe, MSG_PEEK | MSG_TRUNC, syscall);
    if (size > this.rx.length) {
      if (size > this.maxDatagram) {
        throw new TunError('ERR_TUN_NETLINK', `${syscall}: reply of ${size} bytes exceeds the ${this.maxDatagram}-byte limit`);
      }
      this.rx = new Uint8Array(Math.min(this.maxDatagram, Math.max(size, this.rx.length * 2)));
    }
    return this.recvRetrying(this.rx, 0, syscall);
  }

  private recvRetrying(buf: Uint8Array, flags: number, syscall: string): number {
    for (;;) {
      const n = sys.recv(this.fd, buf, buf.length, flags);
      if (n >= 0) return n;
      const err = errno();
      if (err === EINTR) continue;
      if (err === EAGAIN) {
        throw new TunError('ERR_TUN_NETLINK', `${syscall}: no reply from the kernel within the receive timeout`, { errno: err, syscall });
      }
      throw osError('ERR_TUN_NETLINK', syscall, 'recv', err);
    }
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    sys.close(this.fd);
    this.fd = -1;
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function kernelError(codeFor: ErrorCodeFor, syscall: string, err: number, extack: string | undefined): TunError {
  const e = osError(codeFor(err), syscall, undefined, err);
  if (extack === undefined) return e;
  return new TunError(e.code, `${e.message}: ${extack}`, { errno: err, syscall });
}
