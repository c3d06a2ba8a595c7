/** cpu_set_t encoding and pinning the calling thread (inside a throwaway worker). */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { cpuSet, cpusOf, CPU_SET_BYTES, currentThreadCpus } from '../src/cpu-affinity.js';

t.test('cpuSet encodes bit (n % 8) of byte (n / 8)', async (t) => {
  const m = cpuSet([0, 3, 9, 1023]);
  t.equal(m.length, CPU_SET_BYTES);
  t.equal(m[0], 0b1001);
  t.equal(m[1], 0b10);
  t.equal(m[127], 0x80);
  t.same(cpusOf(m), [0, 3, 9, 1023]);
  t.throws(() => cpuSet([1024]), RangeError);
  t.throws(() => cpuSet([-1]), RangeError);
});

t.test('pinning a worker thread is visible to sched_getaffinity', async (t) => {
  const cpus = currentThreadCpus();
  t.ok(cpus.length >= 1, `allowed CPUs: ${cpus.join(',')}`);
  const target = cpus[cpus.length - 1]!;
  const url = new URL('../src/cpu-affinity.js', import.meta.url).href;
  const w = new Worker(
    `import('${url}').then((m) => { const e = m.pinCurrentThread([${target}]); require('node:worker_threads').parentPort.postMessage({ e, now: m.currentThreadCpus() }); });`,
    { eval: true },
  );
  const msg = await new Promise<{ e: number; now: number[] }>((r) => w.once('message', r));
  t.equal(msg.e, 0);
  t.same(msg.now, [target]);
  t.same(currentThreadCpus(), cpus, 'the main thread was not affected');
  await w.terminate();
});
