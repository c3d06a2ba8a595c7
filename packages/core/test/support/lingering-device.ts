/**
 * Child program for the process-lifetime tests (run inside a test namespace).
 * `idle`: a device whose poll thread has started, left open: the process must
 * still exit on its own. `pending`: a recv waiting with nothing else alive but an
 * unref'd timer that closes the device after 300 ms: the pending recv must keep
 * the process up until then, and print the rejection code.
 */
import { DeviceBuilder } from '../../src/builder.js';

const mode = process.argv[2];
const dev = new DeviceBuilder().name('tplinger0').enable(false).build();
const buf = new Uint8Array(2048);
if (mode === 'idle') {
  await dev.recv(buf, { timeout: 20 }).catch((e: { code?: string }) => console.log(`first wait: ${e.code}`));
  console.log('idle device left open');
} else {
  setTimeout(() => dev.close(), 300).unref();
  dev.recv(buf).then(
    () => console.log('resolved'),
    (e: { code?: string }) => console.log(`pending recv: ${e.code}`),
  );
}
