/**
 * The fault schedule: which fault comes next, after how long a pause, with what
 * parameters, all drawn from a seeded PRNG. The first round holds every kind
 * once (in a seeded order; its link and queue faults hit a UDP device, where
 * the books must stay exact), so even a short run survives each kind; then kinds
 * are drawn by weight until the planned time covers the run.
 */
import { Prng } from './prng.js';
import type { Role, Side } from './topology.js';

/** The kinds of fault. */
export const FAULT_KINDS = [
  'queue-detach',
  'link-flap',
  'mtu-change',
  'consumer-stall',
  'worker-stall',
  'handler-exception',
  'ring-full-burst',
  'netns-recreate',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One planned fault. */
export interface Fault {
  /** Position in the schedule. */
  index: number;
  /** What happens. */
  kind: FaultKind;
  /** Load-only time before it starts (ms). */
  gapMs: number;
  /** How long the fault state is held (detached, down, lowered MTU, stalled), ms. */
  holdMs: number;
  /** The device it hits (queue-detach, link-flap, mtu-change, worker-stall, handler-exception). */
  role: Role;
  /** Queue index (queue-detach). */
  queue: number;
  /** New MTU (mtu-change). */
  mtu: number;
  /** Batches that throw (handler-exception) or datagrams in the burst (ring-full-burst). */
  count: number;
  /** Namespace deleted (netns-recreate). */
  side: Side;
  /** Part of the first round (every kind once): applied even when the run's time is up. */
  firstRound: boolean;
}

/** Relative frequency after the first round. */
const WEIGHTS: Record<FaultKind, number> = {
  'queue-detach': 3,
  'link-flap': 3,
  'mtu-change': 2,
  'consumer-stall': 3,
  'worker-stall': 2,
  'handler-exception': 3,
  'ring-full-burst': 3,
  'netns-recreate': 1,
};

/** Rough planned cost of a fault beyond its hold (ms), to size the schedule. */
const OVERHEAD: Record<FaultKind, number> = {
  'queue-detach': 800,
  'link-flap': 1200,
  'mtu-change': 300,
  'consumer-stall': 200,
  'worker-stall': 200,
  'handler-exception': 300,
  'ring-full-burst': 800,
  'netns-recreate': 5000,
};

const ROLES: readonly Role[] = ['udpA', 'udpB', 'tcpA', 'tcpB'];
/** Devices whose workers see traffic (device 1 only writes). */
const BUSY_ROLES: readonly Role[] = ['udpA', 'tcpA', 'tcpB'];

/** Devices carrying the UDP books: the first round's link and queue faults hit one of them. */
const UDP_ROLES: readonly Role[] = ['udpA', 'udpB'];

function draw(prng: Prng, kind: FaultKind, index: number, firstRound: boolean): Fault {
  const f: Fault = {
    index,
    kind,
    gapMs: prng.int(300, 1200),
    holdMs: 0,
    role: prng.pick(ROLES),
    queue: prng.int(0, 1),
    mtu: prng.pick([1280, 1340, 1400, 1460]),
    count: 0,
    side: prng.pick(['A', 'B'] as const),
    firstRound,
  };
  if (firstRound && (kind === 'link-flap' || kind === 'queue-detach')) f.role = prng.pick(UDP_ROLES);
  switch (kind) {
    case 'queue-detach': f.holdMs = prng.int(300, 1500); break;
    case 'link-flap': f.holdMs = prng.int(200, 1000); break;
    case 'mtu-change': f.holdMs = prng.int(300, 1500); break;
    case 'consumer-stall': f.holdMs = prng.int(200, 1500); break;
    case 'worker-stall': f.holdMs = prng.int(100, 600); f.role = prng.pick(BUSY_ROLES); break;
    case 'handler-exception': f.count = prng.int(1, 8); f.role = prng.pick(BUSY_ROLES); break;
    case 'ring-full-burst': f.count = prng.int(2000, 6000); break;
    case 'netns-recreate': break;
  }
  return f;
}

/** The faults of a run of `durationMs` with `seed`. */
export function planFaults(seed: number, durationMs: number): Fault[] {
  const prng = new Prng(seed);
  const faults: Fault[] = [];
  let planned = 0;
  const add = (kind: FaultKind, firstRound: boolean): void => {
    const f = draw(prng, kind, faults.length, firstRound);
    faults.push(f);
    planned += f.gapMs + f.holdMs + OVERHEAD[kind];
  };
  for (const kind of prng.shuffle(FAULT_KINDS)) add(kind, true);
  const total = FAULT_KINDS.reduce((n, k) => n + WEIGHTS[k], 0);
  while (planned < durationMs) {
    let r = prng.int(1, total);
    const kind = FAULT_KINDS.find((k) => (r -= WEIGHTS[k]) <= 0)!;
    add(kind, false);
  }
  return faults;
}
