/**
 * A child process that reports by printing one JSON object per line (`{"event":
 * "attached", ...}`) and takes commands as lines on its stdin: the tests' channel
 * to fixtures that run as another user or drop privileges. Always bounded: every
 * wait has a deadline, and the child is ended in the test's teardown (stdin closed,
 * which the fixtures treat as "exit now", then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from '@tunpipe/testkit';

/** One line the child printed. */
export type ChildMessage = { event: string } & Record<string, unknown>;

/** How the child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A running fixture process speaking JSON lines. */
export class JsonLineChild {
  /** The process (stdin, stdout, stderr piped). */
  readonly child: ChildProcess;
  readonly #messages: ChildMessage[] = [];
  readonly #wakers = new Set<() => void>();
  #stderr = '';
  #buffered = '';
  #exit: ChildExit | undefined;
  readonly #exited: Promise<ChildExit>;

  private constructor(cmd: string, args: readonly string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      if (this.#stderr.length < 65536) this.#stderr += s;
    });
    this.child.stdout!.on('data', (s: string) => this.#take(s));
    this.child.stdin!.on('error', () => undefined); // EPIPE after the child exited
    this.#exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.#exit = { code, signal, stderr: this.#stderr };
        this.#wake();
        resolve(this.#exit);
      });
      this.child.once('error', (err) => {
        this.#exit = { code: null, signal: null, stderr: `${this.#stderr}\nspawn failed: ${err.message}` };
        this.#wake();
        resolve(this.#exit);
      });
    });
  }

  /** Starts `cmd args...` (no shell); it is ended in `t`'s teardown at the latest. */
  static start(t: TestContext, cmd: string, args: readonly string[]): JsonLineChild {
    const c = new JsonLineChild(cmd, args);
    t.teardown(() => c.end());
    return c;
  }

  /** The first not yet consumed message with this `event`; rejects when the child exits first or after `timeoutMs`. */
  async next(event: string, timeoutMs = 20_000): Promise<ChildMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#messages.findIndex((m) => m.event === event);
      if (i >= 0) return this.#messages.splice(i, 1)[0]!;
      if (this.#exit !== undefined) throw new Error(`child exited (${this.#exit.code ?? this.#exit.signal}) before '${event}'; printed ${JSON.stringify(this.#messages)}; stderr: ${this.#exit.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${event}' from the child within ${timeoutMs} ms; stderr: ${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wakers.add(done);
      });
    }
  }

  /** Writes one command line to the child's stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Resolves when the child has exited (SIGKILL after `timeoutMs`). */
  async exited(timeoutMs = 20_000): Promise<ChildExit> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes stdin (the fixture's "exit now") and waits for the exit, killing it after 5 s. */
  async end(): Promise<ChildExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.child.stdin!.end();
    return this.exited(5_000);
  }

  #take(chunk: string): void {
    this.#buffered += chunk;
    let nl: number;
    while ((nl = this.#buffered.indexOf('\n')) >= 0) {
      const line = this.#buffered.slice(0, nl).trim();
      this.#buffered = this.#buffered.slice(nl + 1);
      if (line === '') continue;
      try {
        this.#messages.push(JSON.parse(line) as ChildMessage);
      } catch {
        this.#messages.push({ event: 'unparsed', line });
      }
    }
    this.#wake();
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const w of wakers) w();
  }
}
