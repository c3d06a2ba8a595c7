/**
 * Network namespaces for the examples and the demo: made with `ip netns add`
 * (an outside tool; the libraries never run `ip`), named `tp-<tag>-<pid>`, and
 * always deleted: on `delete()`, on process exit and on SIGINT/SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';

const live = new Set<ScratchNetns>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const ns of live) ns.delete();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const ns of live) ns.delete();
      process.kill(process.pid, sig);
    });
  }
}

/** What a command run inside the namespace printed and how it ended. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A network namespace owned by this process. */
export class ScratchNetns {
  /** Its name, as `ip netns list` shows it. */
  readonly name: string;
  private alive = true;

  constructor(tag: string) {
    this.name = `tp-${tag}-${process.pid}`;
    ip('netns', 'add', this.name);
    live.add(this);
    hookExit();
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
  }

  /** Runs `cmd args` inside the namespace without a shell, killed after `timeoutMs`. */
  run(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Deletes the namespace (idempotent). */
  delete(): void {
    if (!this.alive) return;
    this.alive = false;
    live.delete(this);
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }

  /** Same as delete(). */
  [Symbol.dispose](): void {
    this.delete();
  }
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ip: ${r.error.message} (install iproute2)`);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}
