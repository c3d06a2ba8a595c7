/**
 * Applies one planned fault to a running epoch, bounded in time. Faults whose
 * kernel-side losses have no counter (detaching a UDP device's queue, a UDP link
 * going down or up) run their transitions with the UDP sender paused and the
 * path drained; see udp-books.ts. Everything else runs under full load.
 */
import type { Epoch } from './epoch.js';
import type { Deadlines } from './deadline.js';
import { sleep } from './deadline.js';
import type { Fault } from './fault-schedule.js';
import { link, linkUp } from './topology.js';
import type { SoakNamespaces } from './topology.js';

/** Runs `fault` against `epoch` (not netns-recreate: the runner ends the epoch for that). */
export async function injectFault(fault: Fault, epoch: Epoch, spaces: SoakNamespaces, deadlines: Deadlines): Promise<void> {
  const spec = link(fault.role);
  const ns = spaces.of(spec.side);
  const name = epoch.nameOf(spec.device);
  const udp = spec.role === 'udpA' || spec.role === 'udpB';
  const quiesced = async (step: () => Promise<void>): Promise<void> => {
    if (!udp) return step();
    await epoch.pauseUdp();
    try {
      await step();
    } finally {
      await epoch.resumeUdp();
    }
  };
  const relay = epoch.relay;
  switch (fault.kind) {
    case 'queue-detach':
      await quiesced(() => deadlines.within('detach a queue', 5000, relay.set.detachQueue(spec.device, fault.queue)));
      await sleep(fault.holdMs);
      await deadlines.within('attach a queue', 5000, relay.set.attachQueue(spec.device, fault.queue));
      return;
    case 'link-flap':
      await quiesced(async () => {
        await deadlines.within('link down', 5000, ns.ip('link', 'set', 'dev', name, 'down'));
      });
      await sleep(fault.holdMs);
      await quiesced(() => deadlines.within('link up', 5000, linkUp(ns, spec, name)));
      return;
    case 'mtu-change':
      await deadlines.within('lower the MTU', 5000, ns.ip('link', 'set', 'dev', name, 'mtu', String(fault.mtu)));
      await sleep(fault.holdMs);
      await deadlines.within('restore the MTU', 5000, ns.ip('link', 'set', 'dev', name, 'mtu', '1500'));
      return;
    case 'consumer-stall':
      relay.stallConsumer(fault.holdMs);
      await sleep(fault.holdMs);
      return;
    case 'worker-stall':
      relay.stallWorker(spec.device, fault.holdMs);
      await sleep(fault.holdMs);
      return;
    case 'handler-exception':
      relay.throwInHandler(spec.device, fault.count);
      await deadlines.within('handler exceptions thrown', 15_000, async () => {
        while (relay.pendingThrows(spec.device) > 0) await sleep(10);
      });
      return;
    case 'ring-full-burst':
      await deadlines.within('UDP burst', 30_000, epoch.agentA.request('udp-burst', { count: fault.count }, 30_000));
      return;
    case 'netns-recreate':
      throw new Error('netns-recreate is applied by the runner (it ends the epoch)');
  }
}
