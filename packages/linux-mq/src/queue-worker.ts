/**
 * Entry module of a queue worker thread: one per (device, queue), started by the
 * queue set with `new Worker(new URL('./queue-worker.js', import.meta.url))`.
 *
 * Why a plain `worker_threads` Worker and not a piscina task: piscina runs short
 * CPU-bound tasks on a shared pool and can only abort a task between tasks; a
 * queue worker is the opposite, a thread that owns one fd for its whole life and
 * spends its idle time blocked in poll(2). A task parked in a system call cannot
 * be aborted by piscina (nor by worker.terminate(): a blocked syscall never
 * returns to JavaScript; DESIGN.md). So each queue gets a dedicated thread that
 * waits in `poll([fd, eventfd])`, and is stopped by a flag plus a write to its
 * eventfd, which wakes it within about a millisecond.
 */
import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import { sys } from '@tunpipe/core';
import { QueueLoop } from './queue-loop.js';
import { pinCurrentThread, currentThreadCpus } from './cpu-affinity.js';
import type { HandlerContext, HandlerModule, PacketHandler } from './handler-api.js';
import type { QueueWorkerData, WorkerMessage } from './worker-protocol.js';

const data = workerData as QueueWorkerData;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);

let affinity: number[] | null = null;
if (data.affinity !== null && data.affinity.length > 0) {
  const err = pinCurrentThread(data.affinity);
  if (err !== 0) throw new Error(`sched_setaffinity(${data.affinity.join(',')}) failed with errno ${err}`);
  affinity = currentThreadCpus();
}

let handler: PacketHandler | null = null;
if (data.handler !== null) {
  const mod = (await import(data.handler.url)) as HandlerModule;
  handler = mod.handle ?? (typeof mod.default === 'function' ? mod.default : null);
  if (typeof mod.init === 'function') {
    const context: HandlerContext = {
      device: data.device,
      queue: data.queue,
      queues: data.queues,
      devices: data.peers.length,
      mode: data.mode,
      vnetHdr: data.peers[data.device]!.vnetHdr,
      data: data.handler.data,
    };
    const returned = mod.init(context);
    if (typeof returned === 'function') handler = returned;
  }
  if (typeof handler !== 'function') {
    throw new Error(`handler module ${data.handler.url} exports no handle() function (named or default)`);
  }
}

// Requests that carry data (QueueOp.REDIRECT) post it first; the loop takes it synchronously.
const receive = (): unknown => receiveMessageOnPort(port)?.message;
const loop = new QueueLoop(data, handler, post, receive);
post({ type: 'ready', tid: sys.gettid(), affinity, reads: loop.readPath });
loop.run();
port.close();
