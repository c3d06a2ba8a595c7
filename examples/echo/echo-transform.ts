/**
 * The streams flavour of the echo service: a TransformStream that turns echo
 * requests into replies (`replyInPlace`) and drops everything else.
 * A request's bytes may be a view into a queue worker's RX ring: the reply is
 * written over it and handed on at once, which the streams' ownership rule
 * allows for pass-through stages (the device writable copies it into a TX ring).
 */
import { packetOf, timestampNow, type Packet } from '@tunpipe/streams';
import { replyInPlace } from './responder.js';

/** Requests in, replies out (stamped with the time they were made). */
export function echoReplies(): TransformStream<Packet, Packet> {
  return new TransformStream<Packet, Packet>({
    transform(packet, controller) {
      const replyLength = replyInPlace(packet.data);
      if (replyLength > 0) {
        controller.enqueue(packetOf(packet.data.subarray(0, replyLength), { queue: packet.queue, timestamp: timestampNow() }));
      }
    },
  });
}
