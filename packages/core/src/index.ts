/** @tunpipe/core: TUN/TAP devices on Linux. */
export { TunError, isTunError, type TunErrorCode } from '@tunpipe/offload';
export { sys, errno, osError, check } from './libc.js';
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
