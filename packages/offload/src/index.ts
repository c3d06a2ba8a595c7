/** @tunpipe/offload: wire views, checksums, virtio-net header, GSO split and GRO coalescing. */
export { TunError, isTunError, errnoName, type TunErrorCode, type TunErrorDetails } from './errors.js';
