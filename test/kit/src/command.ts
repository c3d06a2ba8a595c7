/**
 * Running outside programs (`ip`, `ping`, `tcpdump`) from tests: never through a
 * shell, always bounded by a timeout, output captured up to a cap.
 */
import { spawn, spawnSync } from 'node:child_process';

/** What a finished command produced. */
export interface CommandResult {
  /** Exit status; `null` when the command was killed by a signal (e.g. on timeout). */
  code: number | null;
  /** The signal that ended the command, if any. */
  signal: NodeJS.Signals | null;
  /** True when the command ran past its timeout and was killed. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Options of `runCommand` / `runCommandSync`. */
export interface CommandOptions {
  /** Kill the command (SIGKILL) after this many milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Bytes kept of each of stdout and stderr; the rest is dropped. Default 4 MiB. */
  maxOutputBytes?: number;
}

/** Default bound on every outside command, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_OUTPUT = 4 << 20;

/** Runs `cmd args...` without a shell; resolves when it exits or its timeout killed it. */
export function runCommand(cmd: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new CappedText(maxOutput);
    const err = new CappedText(maxOutput);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout: out.text(), stderr: err.text() });
    });
  });
}

/** Synchronous `runCommand`, for setup and teardown steps that must not yield. */
export function runCommandSync(cmd: string, args: readonly string[], options: CommandOptions = {}): CommandResult {
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
    encoding: 'utf8',
  });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status, signal: r.signal, timedOut, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Throws with the command line and its stderr unless the command exited with status 0. */
export function expectSuccess(cmd: string, args: readonly string[], r: CommandResult): CommandResult {
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : r.code === null ? `killed by ${r.signal}` : `exit status ${r.code}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}: ${r.stderr.trim()}`);
  }
  return r;
}

/** Accumulates a stream's bytes up to a cap and decodes them once. */
class CappedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    if (this.size >= this.cap) return;
    const part = chunk.length > this.cap - this.size ? chunk.subarray(0, this.cap - this.size) : chunk;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
