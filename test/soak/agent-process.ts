/**
 * The driver's handle on one soak agent (`agent/agent.ts`) running inside a
 * namespace: typed requests with a deadline each, the agent's events, and a
 * bounded shutdown that ends in SIGKILL. The process-exit safety net of testkit
 * kills it should the driver die first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { onExitCleanup, type Netns } from '@tunpipe/testkit';
import type { AgentAnswer, AgentOps, TcpReceivedEvent } from './agent/agent-protocol.js';

/** Path of the compiled agent program. */
const AGENT_PATH = new URL('./agent/agent.js', import.meta.url).pathname;

/** A running agent. */
export class AgentProcess {
  /** Name of the namespace it runs in. */
  readonly netns: string;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly exited: Promise<void>;
  private ended = false;
  private stderr = '';
  private readonly unregister: () => void;
  /** Called for every `tcp-received` event. */
  onTcpReceived: (e: TcpReceivedEvent) => void = () => undefined;

  private constructor(ns: Netns, hardLimitMs: number) {
    this.netns = ns.name;
    this.child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, AGENT_PATH, String(hardLimitMs)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.unregister = onExitCleanup(() => {
      if (!this.ended) this.child.kill('SIGKILL');
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      if (this.stderr.length < 65536) this.stderr += s;
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.exited = new Promise((resolve) => {
      this.child.once('close', () => {
        this.ended = true;
        this.unregister();
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`agent in ${this.netns} exited: ${this.stderr.trim()}`));
        }
        this.pending.clear();
        resolve();
      });
    });
    this.child.once('error', () => undefined);
    this.child.stdin!.on('error', () => undefined);
  }

  /** Starts an agent in `ns`; it exits by itself after `hardLimitMs`. */
  static start(ns: Netns, hardLimitMs: number): AgentProcess {
    return new AgentProcess(ns, hardLimitMs);
  }

  private onLine(line: string): void {
    let msg: AgentAnswer | TcpReceivedEvent;
    try {
      msg = JSON.parse(line) as AgentAnswer | TcpReceivedEvent;
    } catch {
      return;
    }
    if ('event' in msg) {
      if (msg.event === 'tcp-received') this.onTcpReceived(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`agent in ${this.netns}: ${msg.error}`));
  }

  /** Sends a request; rejects if no answer comes within `timeoutMs`. */
  request<K extends keyof AgentOps>(op: K, args: AgentOps[K]['args'], timeoutMs = 10_000): Promise<AgentOps[K]['result']> {
    if (this.ended) return Promise.reject(new Error(`agent in ${this.netns} has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent in ${this.netns}: ${op} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.stdin!.write(JSON.stringify({ id, op, args }) + '\n');
    });
  }

  /** Asks the agent to exit; SIGKILL when it has not within `graceMs`. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.ended) {
      this.request('exit', undefined, graceMs).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
  }
}
