/**
 * SlirpStack: libslirp attached to a TAP device. Frames the guest side of the
 * TAP device sends go into slirp's TCP/IP stack; what slirp answers goes back.
 * slirp runs restricted, always: the guest reaches nothing but the forwards
 * given here (each to a TCP server through a unix-socket proxy); every other
 * TCP connection is reset, every other packet dropped.
 */
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, constants, sys, TunError } from '@tunpipe/core';
import { LIBSLIRP_SONAME, loadLibSlirp } from './slirp-binding.js';
import { STAT, STAT_COUNT, type SlirpNetworkConfig, type SlirpWorkerData, type SlirpWorkerMessage } from './slirp-worker-protocol.js';
import { UnixTcpProxy } from './unix-tcp-proxy.js';

/** A guest forward: the guest's connections to `guestAddress:guestPort` reach `hostAddress:hostPort`. */
export interface SlirpForward {
  /** Address in the virtual network (not slirp's own `host` or `nameserver`). */
  guestAddress: string;
  /** Port the guest connects to. */
  guestPort: number;
  /** TCP server it reaches, in the namespace of the main thread. Default `127.0.0.1`. */
  hostAddress?: string;
  /** Its port. */
  hostPort: number;
}

/** Options of SlirpStack.start. */
export interface SlirpStackOptions extends Partial<SlirpNetworkConfig> {
  /** The TAP device's fd: non-blocking, Ethernet frames without vnet header or packet information. */
  tapFd: number;
  /** What the guest may reach. */
  forwards: readonly SlirpForward[];
  /** Path or soname of libslirp. Default `libslirp.so.0`. */
  libraryPath?: string;
  /** Called with slirp's complaints about guest behaviour. */
  onGuestError?: (message: string) => void;
  /** Abort the start. */
  signal?: AbortSignal;
}

/** Frame counters of a running stack. */
export interface SlirpStats {
  /** Frames the guest sent that went into slirp. */
  framesFromGuest: number;
  /** Their bytes. */
  bytesFromGuest: number;
  /** Frames slirp sent to the guest. */
  framesToGuest: number;
  /** Their bytes. */
  bytesToGuest: number;
  /** Frames the TAP device refused. */
  writeErrors: number;
  /** Forwarded connections the proxies accepted. */
  connections: number;
}

/** The default virtual network: 198.18.0.0/24, slirp at .254, nameserver .253, DHCP from .15. */
export const DEFAULT_SLIRP_NETWORK: SlirpNetworkConfig = {
  network: '198.18.0.0',
  netmask: '255.255.255.0',
  host: '198.18.0.254',
  nameserver: '198.18.0.253',
  dhcpStart: '198.18.0.15',
  dhcp: false,
  mtu: 1500,
};

let sockets = 0;

/** libslirp running in a worker thread on a TAP device. */
export class SlirpStack {
  /** libslirp's version string (e.g. `4.7.0`). */
  readonly version: string;
  /** The virtual network in use. */
  readonly network: SlirpNetworkConfig;
  readonly #worker: Worker;
  readonly #wakeFd: number;
  readonly #stats: Float64Array;
  readonly #proxies: UnixTcpProxy[];
  readonly #exited: Promise<void>;
  #failure: TunError | null = null;
  #closed = false;

  private constructor(version: string, network: SlirpNetworkConfig, worker: Worker, wakeFd: number, stats: Float64Array, proxies: UnixTcpProxy[], exited: Promise<void>) {
    this.version = version;
    this.network = network;
    this.#worker = worker;
    this.#wakeFd = wakeFd;
    this.#stats = stats;
    this.#proxies = proxies;
    this.#exited = exited;
  }

  /**
   * Starts the proxies and the worker, creates the slirp stack and its forwards;
   * resolves once slirp runs. Throws ERR_TUN_SLIRP_MISSING without libslirp,
   * ERR_TUN_SLIRP_INIT / ERR_TUN_SLIRP_FORWARD when slirp refuses the setup.
   */
  static async start(options: SlirpStackOptions): Promise<SlirpStack> {
    const libraryPath = options.libraryPath ?? LIBSLIRP_SONAME;
    loadLibSlirp(libraryPath); // fails here, in the caller's thread, with the install hint
    const network: SlirpNetworkConfig = {
      network: options.network ?? DEFAULT_SLIRP_NETWORK.network,
      netmask: options.netmask ?? DEFAULT_SLIRP_NETWORK.netmask,
      host: options.host ?? DEFAULT_SLIRP_NETWORK.host,
      nameserver: options.nameserver ?? DEFAULT_SLIRP_NETWORK.nameserver,
      dhcpStart: options.dhcpStart ?? DEFAULT_SLIRP_NETWORK.dhcpStart,
      dhcp: options.dhcp ?? DEFAULT_SLIRP_NETWORK.dhcp,
      mtu: options.mtu ?? DEFAULT_SLIRP_NETWORK.mtu,
    };
    if (options.signal?.aborted) throw new TunError('ERR_TUN_ABORTED', 'SlirpStack.start aborted', { cause: options.signal.reason });
    const proxies: UnixTcpProxy[] = [];
    const cleanup = async (): Promise<void> => {
      await Promise.all(proxies.map((p) => p.close()));
    };
    let wakeFd = -1;
    try {
      for (const f of options.forwards) {
        const unixPath = join(tmpdir(), `tunpipe-slirp-${process.pid}-${sockets++}.sock`);
        proxies.push(await UnixTcpProxy.listen({ unixPath, host: f.hostAddress ?? '127.0.0.1', port: f.hostPort }));
      }
      wakeFd = check(sys.eventfd(0, constants.EFD_NONBLOCK | constants.EFD_CLOEXEC), 'ERR_TUN_SLIRP_INIT', 'eventfd');
    } catch (err) {
      await cleanup();
      throw err;
    }
    const stats = new SharedArrayBuffer(STAT_COUNT * 8);
    const data: SlirpWorkerData = {
      tapFd: options.tapFd,
      wakeFd,
      stats,
      libraryPath,
      config: network,
      forwards: options.forwards.map((f, i) => ({ guestAddress: f.guestAddress, guestPort: f.guestPort, unixPath: proxies[i]!.unixPath })),
    };
    const worker = new Worker(new URL('./slirp-worker.js', import.meta.url), { workerData: data });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // One record of the worker's fate, shared with the stack once it exists.
    const fate: { failure: TunError | null; stack: SlirpStack | null } = { failure: null, stack: null };
    const fail = (err: TunError): void => {
      fate.failure ??= err;
      if (fate.stack) fate.stack.#failure ??= err;
    };
    worker.on('message', (m: SlirpWorkerMessage) => {
      if (m.type === 'guest-error') options.onGuestError?.(m.message);
      else if (m.type === 'error') fail(new TunError(m.code, m.message));
    });
    worker.on('error', (err) => fail(new TunError('ERR_TUN_SLIRP', `slirp worker failed: ${err.message}`, { cause: err })));
    let onAbort = (): void => undefined;
    const version = await new Promise<string>((resolve, reject) => {
      onAbort = (): void => reject(new TunError('ERR_TUN_ABORTED', 'SlirpStack.start aborted', { cause: options.signal?.reason }));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: SlirpWorkerMessage) => {
        if (m.type === 'ready') resolve(m.version);
        else if (m.type === 'error') reject(fate.failure);
      });
      worker.once('error', () => reject(fate.failure));
      worker.once('exit', () => reject(fate.failure ?? new TunError('ERR_TUN_SLIRP', 'slirp worker exited before it was ready')));
    })
      .finally(() => options.signal?.removeEventListener('abort', onAbort))
      .catch(async (err: unknown) => {
        sys.write(wakeFd, new BigUint64Array([1n]), 8);
        await exited;
        sys.close(wakeFd);
        await cleanup();
        throw err;
      });
    const stack = new SlirpStack(version, network, worker, wakeFd, new Float64Array(stats), proxies, exited);
    stack.#failure = fate.failure;
    fate.stack = stack;
    return stack;
  }

  /** The counters so far. */
  stats(): SlirpStats {
    const s = this.#stats;
    return {
      framesFromGuest: s[STAT.framesFromGuest]!,
      bytesFromGuest: s[STAT.bytesFromGuest]!,
      framesToGuest: s[STAT.framesToGuest]!,
      bytesToGuest: s[STAT.bytesToGuest]!,
      writeErrors: s[STAT.writeErrors]!,
      connections: this.#proxies.reduce((n, p) => n + p.accepted, 0),
    };
  }

  /** The error that stopped the worker early (e.g. ERR_TUN_DEVICE_GONE), or null. */
  failure(): TunError | null {
    return this.#failure;
  }

  /** Stops slirp (its sockets close, slirp_cleanup runs), ends the worker and the proxies. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    sys.write(this.#wakeFd, new BigUint64Array([1n]), 8);
    await this.#exited;
    sys.close(this.#wakeFd);
    await Promise.all(this.#proxies.map((p) => p.close()));
  }

  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
