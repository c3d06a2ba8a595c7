/** @tunpipe/core: TUN/TAP devices on Linux. */
export { TunError, isTunError, type TunErrorCode } from '@tunpipe/offload';
export { sys, errno, osError, check } from './libc.js';
export type { MallInfo2 } from './libc.js';
export * as constants from './constants.js';
export {
  parseIPv4,
  parseIPv6,
  parseIp,
  ipFamily,
  formatIPv4,
  formatIPv6,
  formatIp,
  parseCidr,
  formatCidr,
  checkPrefix,
  maxPrefix,
  netmaskToPrefix,
  prefixToNetmask,
  hasHostBits,
  networkAddress,
  broadcastAddress,
  parseMac,
  formatMac,
  isMulticastMac,
  isUnicastMac,
  type IpFamily,
  type IpAddress,
  type Cidr,
} from './address.js';
export { Rtnetlink, type AddressSpec, type AddressKey, type RouteSpec, type LinkInfo, type AddressInfo, type RouteInfo } from './netlink/rtnetlink.js';
export { type NetlinkSocketOptions } from './netlink/netlink-socket.js';
export { enterNetns, openNetnsFd, netnsPath, NetnsEntry } from './netns.js';
export { DeviceBuilder, type DeviceOptions } from './builder.js';
export { Device, type DeviceAddress, type RecvOptions, type RouteOptions, type AdoptOptions } from './device.js';
export { DeviceErrorCode } from './error-codes.js';
export { type Layer, type MacInput } from './validate.js';
export { type OffloadState, TCP_OFFLOAD_MASK, UDP_OFFLOAD_MASK } from './tun-fd.js';
export { dropPrivileges, processCredentials, type DropPrivilegesOptions, type ProcessCredentials, type IdTriple } from './privileges.js';
export { addressOf } from './libc.js';
export { IoUring, type IoUringOptions } from './io-uring.js';
export { fixMallocThresholds, DEFAULT_MALLOC_THRESHOLD, type MallocThresholds } from './malloc-thresholds.js';
