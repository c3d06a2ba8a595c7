/**
 * A long-running outside program (tcpdump, a TCP server, iperf3) started for a test:
 * its output is captured (bounded), it can be waited on for a line, and it is always
 * stopped: by `stop()`, by the test's teardown, or by the process-exit safety net.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { onExitCleanup } from './exit-cleanup.js';
import type { TestContext } from './test-context.js';

/** How a stopped peer ended and what it printed. */
export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of `Peer.start`. */
export interface PeerOptions {
  /** Bytes of stdout and of stderr kept. Default 4 MiB each. */
  maxOutputBytes?: number;
}

const DEFAULT_MAX_OUTPUT = 4 << 20;

/** A running child process owned by a test. */
export class Peer {
  /** The child process itself (stdin ignored, stdout/stderr piped). */
  readonly child: ChildProcess;
  private out = '';
  private err = '';
  private readonly exited: Promise<PeerExit>;
  private ended = false;
  private readonly unregister: () => void;

  private constructor(cmd: string, args: readonly string[], options: PeerOptions) {
    const cap = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (s: string) => {
      if (this.out.length < cap) this.out += s.slice(0, cap - this.out.length);
    });
    this.child.stderr!.on('data', (s: string) => {
      if (this.err.length < cap) this.err += s.slice(0, cap - this.err.length);
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        this.ended = true;
        resolve({ code, signal, stdout: this.out, stderr: this.err });
      });
    });
    this.exited.catch(() => undefined);
    this.unregister = onExitCleanup(() => {
      if (!this.ended) this.child.kill('SIGKILL');
    });
  }

  /** Starts `cmd args...` (no shell); it is stopped in `t`'s teardown at the latest. */
  static start(t: TestContext, cmd: string, args: readonly string[], options: PeerOptions = {}): Peer {
    const peer = new Peer(cmd, args, options);
    t.teardown(() => peer.stop());
    return peer;
  }

  /** stdout so far. */
  get stdout(): string {
    return this.out;
  }

  /** stderr so far. */
  get stderr(): string {
    return this.err;
  }

  /** True once the process has exited. */
  get exitedAlready(): boolean {
    return this.ended;
  }

  /** Resolves when the process exits by itself (rejects if it could not start). */
  wait(): Promise<PeerExit> {
    return this.exited;
  }

  /**
   * Resolves once stdout or stderr matches `pattern` (e.g. tcpdump's
   * `/listening on/`); rejects after `timeoutMs` (default 5000) or when the process
   * exits first.
   */
  async waitForOutput(pattern: RegExp, { timeoutMs = 5000 }: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.out) && !pattern.test(this.err)) {
      if (this.ended) throw new Error(`peer exited before printing ${pattern}: ${this.err.trim()}`);
      if (Date.now() > deadline) throw new Error(`peer did not print ${pattern} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Stops the process: `signal` (default SIGTERM), then SIGKILL when it has not
   * exited after `graceMs` (default 2000). Idempotent.
   */
  async stop({ signal = 'SIGTERM', graceMs = 2000 }: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<PeerExit> {
    if (!this.ended) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        await this.exited.catch(() => undefined);
      } finally {
        clearTimeout(timer);
      }
    }
    this.unregister();
    return this.exited.catch(() => ({ code: null, signal: null, stdout: this.out, stderr: this.err }));
  }
}
