/**
 * Body of a `ReadinessWaiter`'s poll thread (a worker_threads Worker). It never
 * reads packets: it only waits in `poll([fd, eventfd], -1)` when the owner asks
 * for a cycle, and publishes the device fd's `revents` through the control block
 * (layout in `readiness-control.ts`). Blocking here is the point: this thread is
 * ours, not one of libuv's four threadpool threads.
 *
 * It exits when the owner sets `state = STOPPING` (after writing the eventfd, so a
 * poll in progress returns at once), closing the eventfd on its way out.
 */
import { workerData } from 'node:worker_threads';
import { sys, errno } from './libc.js';
import { EINTR, POLLIN, POLLERR } from './constants.js';
import { Ctl, CtlState, type ReadinessThreadData } from './readiness-control.js';

const { fd, eventFd, control } = workerData as ReadinessThreadData;
const ctl = new Int32Array(control);

// struct pollfd[2], <poll.h> / <asm-generic/poll.h>:
//   0: int fd | 4: short events | 6: short revents   (8 bytes each)
const pollfds = new Int32Array(4);
const pollShorts = new Int16Array(pollfds.buffer);
pollfds[0] = fd;
pollShorts[2] = POLLIN;
pollfds[2] = eventFd;
pollShorts[6] = POLLIN;
/** eventfd counter drained after a wake-up (8-byte u64, <sys/eventfd.h>). */
const counter = new BigUint64Array(1);

let done = Atomics.load(ctl, Ctl.done);
try {
  for (;;) {
    // Park until the owner asks for a cycle (request != done) or stops us.
    Atomics.wait(ctl, Ctl.request, done);
    if (Atomics.load(ctl, Ctl.state) === CtlState.stopping) break;
    const request = Atomics.load(ctl, Ctl.request);
    if (request === done) continue;

    pollShorts[3] = 0;
    pollShorts[7] = 0;
    let ret: number;
    let err = 0;
    do {
      ret = sys.poll(pollfds, 2, -1);
      err = ret < 0 ? errno() : 0;
    } while (ret < 0 && err === EINTR);

    let revents = pollShorts[3]! & 0xffff;
    if (ret < 0) revents = POLLERR;
    if ((pollShorts[7]! & POLLIN) !== 0) sys.read(eventFd, counter, 8);

    Atomics.store(ctl, Ctl.pollErrno, err);
    Atomics.store(ctl, Ctl.revents, revents);
    done = request;
    Atomics.store(ctl, Ctl.done, done);
    Atomics.notify(ctl, Ctl.done);
  }
} finally {
  sys.close(eventFd);
  Atomics.store(ctl, Ctl.eventClosed, 1);
}
