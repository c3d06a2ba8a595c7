/**
 * Child process of the dropPrivileges tests (dropping privileges inside the test
 * runner would break every later test). Starts a worker thread first, so that the
 * drop has more than one thread to switch, then calls `dropPrivileges` with the
 * JSON options in argv[2] and prints one JSON line: the returned credentials, each
 * thread's Uid/Gid lines from /proc, and what an attempt to become root again did;
 * or the coded error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { TunError } from '@tunpipe/offload';
import { dropPrivileges, type DropPrivilegesOptions } from '../../src/privileges.js';
import { sys, errno } from '../../src/libc.js';

/** One thread's credential lines. */
export interface TaskIds {
  tid: number;
  uid: string;
  gid: string;
  groups: string;
}

/** Uid/Gid/Groups lines of every thread of this process. */
export function taskIds(): TaskIds[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    const line = (key: string): string => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
    return { tid: Number(tid), uid: line('Uid'), gid: line('Gid'), groups: line('Groups') };
  });
}

const options = JSON.parse(process.argv[2] ?? '{}') as DropPrivilegesOptions;
// A thread that only waits: it must switch along with the main thread.
const parked = new Worker('setInterval(() => {}, 1000)', { eval: true });
await new Promise((resolve) => parked.once('online', resolve));
try {
  const creds = dropPrivileges(options);
  const ret = sys.setresuid(0, 0, 0);
  const regain = { ret, errno: ret < 0 ? errno() : 0 };
  process.stdout.write(`${JSON.stringify({ ok: true, creds, tasks: taskIds(), regain })}\n`);
} catch (e) {
  const err = e as TunError;
  process.stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, errno: err.errno, syscall: err.syscall, sysCode: err.sysCode, message: err.message } })}\n`);
}
await parked.terminate();
