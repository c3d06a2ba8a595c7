/**
 * What SlirpStack (main thread) and the slirp worker tell each other: the
 * worker's start data, its messages, and the layout of the shared counters.
 */

/** Index of each counter in the worker's shared Float64Array. */
export const STAT = {
  /** Frames read from the TAP device and given to slirp_input. */
  framesFromGuest: 0,
  /** Their bytes (Ethernet header included). */
  bytesFromGuest: 1,
  /** Frames slirp sent (send_packet) and the worker wrote to the TAP device. */
  framesToGuest: 2,
  /** Their bytes. */
  bytesToGuest: 3,
  /** send_packet frames the TAP device refused (write failed). */
  writeErrors: 4,
} as const;

/** Number of counters (length of the shared Float64Array). */
export const STAT_COUNT = 5;

/** The virtual network slirp emulates (dotted quads). */
export interface SlirpNetworkConfig {
  /** Network address of the virtual network. */
  network: string;
  /** Its netmask. */
  netmask: string;
  /** slirp's own address (the "vhost"); restricted slirp refuses forwards on it. */
  host: string;
  /** Nameserver address slirp claims (its DNS proxy is disabled). */
  nameserver: string;
  /** First address slirp's DHCP server hands out. */
  dhcpStart: string;
  /** Answer DHCP requests. */
  dhcp: boolean;
  /** MTU and MRU of the virtual link. */
  mtu: number;
}

/** One guest forward: connections to guestAddress:guestPort go to a unix socket. */
export interface SlirpUnixForward {
  /** Address in the virtual network the guest connects to (slirp answers ARP for it). */
  guestAddress: string;
  /** TCP port. */
  guestPort: number;
  /** Path of the unix stream socket slirp connects to. */
  unixPath: string;
}

/** `workerData` of the slirp worker. */
export interface SlirpWorkerData {
  /** Non-blocking TAP fd (no vnet header, no packet information). */
  tapFd: number;
  /** eventfd the main thread writes to stop the worker. */
  wakeFd: number;
  /** Shared counters, STAT_COUNT float64s. */
  stats: SharedArrayBuffer;
  /** Path or soname of libslirp. */
  libraryPath: string;
  /** The virtual network. */
  config: SlirpNetworkConfig;
  /** Guest forwards. */
  forwards: SlirpUnixForward[];
}

/** Messages from the worker. */
export type SlirpWorkerMessage =
  | { type: 'ready'; version: string }
  | { type: 'guest-error'; message: string }
  | { type: 'error'; code: `ERR_TUN_${string}`; message: string };
