/** The byte order of this host, for the few places that read host-order data (virtio_net_hdr, Uint32Array words). */

/** True when this host stores multi-byte integers little-endian (checked once at load). */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
