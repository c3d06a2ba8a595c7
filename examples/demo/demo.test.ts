/**
 * `npm run demo` end to end: the demo program exits 0 within 60 s, every ping and
 * UDP echo it drives is answered, and it leaves no namespace or device behind.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listNetns, requireNetAdmin } from '@tunpipe/testkit';

const demo = fileURLToPath(new URL('./main.js', import.meta.url));

function run(): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

t.test('the demo answers ping and UDP echo from userspace and cleans up', async (t) => {
  if (!requireNetAdmin(t)) return;
  const r = await run();
  t.equal(r.code, 0, `exit status 0 (stderr: ${r.stderr.trim()})`);
  t.ok(r.ms < 60_000, `finished within 60 s (${r.ms} ms)`);
  t.match(r.stdout, /ping IPv4: 3 packets transmitted, 3 received/);
  t.match(r.stdout, /ping IPv6: 3 packets transmitted, 3 received/);
  t.match(r.stdout, /UDP echo IPv4: reply: hello tunpipe/);
  t.match(r.stdout, /UDP echo IPv6: reply: hello tunpipe/);
  t.match(r.stdout, /ICMPv4 echo request 198\.18\.0\.1 → 198\.18\.0\.2 id=\d+ seq=1 +→ replied/);
  t.match(r.stdout, /0 failed step\(s\)/);
  t.same(listNetns().filter((n) => n.startsWith('tp-demo-')), [], 'no demo namespace left behind');
});
