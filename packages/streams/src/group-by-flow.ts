/**
 * `groupByFlow()`: one inner observable per flow (RxJS `groupBy` on the flow key),
 * each completed after `idleMs` without a packet, so a long-running capture does
 * not accumulate groups for flows that ended. A flow that resumes later gets a
 * new group with the same key.
 */
import { asyncScheduler, debounceTime, groupBy, map, pipe, type GroupedObservable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { flowKey, type FlowOperatorOptions } from './flow-key.js';
import type { Packet } from './packet.js';

/** Options of `groupByFlow()`. */
export interface GroupByFlowOptions extends FlowOperatorOptions {
  /** A group completes after this long without a packet. Default 30 000 ms. */
  idleMs?: number;
  /** Scheduler of the idle timers (tests pass a TestScheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/** Splits packets into one group per flow key; idle groups complete. Unparsable packets are counted and left out. */
export function groupByFlow(options: GroupByFlowOptions = {}): OperatorFunction<Packet, GroupedObservable<string, Packet>> {
  const idleMs = options.idleMs ?? 30_000;
  const scheduler = options.scheduler ?? asyncScheduler;
  return pipe(
    flowKey(options),
    groupBy((k) => k.key, {
      element: (k) => k.packet,
      duration: (group) => group.pipe(map(() => 0), debounceTime(idleMs, scheduler)),
    }),
  );
}
