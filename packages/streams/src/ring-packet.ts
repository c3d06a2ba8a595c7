/**
 * `RingPacket`: the Packet a device consumer hands out in view mode: a reusable
 * object over one RX ring slot (the `data` view comes from the batch, the virtio
 * header is decoded into the object's own `VirtioNetHdr`). A `PacketCursor` keeps
 * a pool of them and refills one only after the batch its previous packet came
 * from was released, so a RingPacket is exactly as valid as its bytes (see
 * packet.ts and packet-cursor.ts): nothing is allocated per packet.
 */
import { createVirtioNetHdr, type VirtioNetHdr } from '@tunpipe/offload';
import { PacketView, type Packet } from './packet.js';

const EMPTY = new Uint8Array(0);

/** A pooled packet over ring memory (valid as long as its batch; `copy()` to keep). */
export class RingPacket implements Packet {
  /** @inheritdoc */
  data: Uint8Array = EMPTY;
  /** @inheritdoc */
  queue = 0;
  /** @inheritdoc */
  virtioHeader: VirtioNetHdr | undefined = undefined;
  /** @inheritdoc */
  timestamp: bigint | undefined = undefined;
  /** Always undefined: device packets carry no application metadata. */
  readonly meta: unknown = undefined;
  /** The object `virtioHeader` points to when the packet has one (decoded in place). */
  readonly header: VirtioNetHdr = createVirtioNetHdr();

  /** @inheritdoc */
  copy(): Packet {
    const hdr = this.virtioHeader === undefined ? undefined : { ...this.virtioHeader };
    return new PacketView(this.data.slice(), this.queue, hdr, this.timestamp);
  }
}
