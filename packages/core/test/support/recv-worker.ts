/**
 * Worker-thread side of the recv wake-up tests: builds a (down, silent) TUN device
 * in the namespace the worker was started in, parks a `recv`, and on the parent's
 * message wakes it with `close()` or an abort, reporting how long that took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TunError } from '@tunpipe/offload';
import { DeviceBuilder } from '../../src/builder.js';

/** What the parent passes. */
export interface RecvWorkerData {
  name: string;
  wake: 'close' | 'abort';
}

/** What the worker reports. */
export interface RecvWorkerReport {
  code: string;
  name: string;
  /** From the close()/abort() call to the rejection. */
  ms: number;
  /** How long the close()/abort() call itself took. */
  callMs: number;
  threadsStopped: boolean;
}

const { name, wake } = workerData as RecvWorkerData;
const port = parentPort!;
// Persistent, so that close() measures the wake-up and not the kernel tearing the
// interface down (the namespace's deletion removes it afterwards).
const dev = new DeviceBuilder().name(name).enable(false).persist(true).build();
const stop = new AbortController();
const buf = new Uint8Array(2048);
const waiting = dev.recv(buf, { signal: stop.signal });
waiting.catch(() => undefined);

port.once('message', () => {
  const t0 = performance.now();
  if (wake === 'close') dev.close();
  else stop.abort(new Error('parent asked'));
  const callMs = performance.now() - t0;
  waiting.then(
    () => port.postMessage({ code: 'resolved', name: '', ms: -1, callMs, threadsStopped: false }),
    async (e: unknown) => {
      const ms = performance.now() - t0;
      const err = e as TunError;
      await dev[Symbol.asyncDispose]();
      port.postMessage({ code: err.code, name: err.name, ms, callMs, threadsStopped: true } satisfies RecvWorkerReport);
    },
  );
});
// Give the recv time to reach its poll thread before saying we are waiting.
setTimeout(() => port.postMessage('waiting'), 100);
