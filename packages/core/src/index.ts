/** @tunpipe/core: TUN/TAP devices on Linux. */
export { TunError, isTunError, type TunErrorCode } from '@tunpipe/offload';
export { sys, errno, osError, check } from './libc.js';
export * as constants from './constants.js';
