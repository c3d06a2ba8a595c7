/**
 * The TCP load: `streams` concurrent loops of back-to-back pattern transfers
 * from the agent in A to the sink in B, each of a seeded size. A transfer counts
 * as good only when the source finished and the sink verified every byte and
 * the length. Each transfer is bounded in time; `stop()` lets the ones running
 * finish (bounded) and starts no more.
 */
import type { AgentProcess } from './agent-process.js';
import type { TcpReceivedEvent } from './agent/agent-protocol.js';
import type { Prng } from './prng.js';
import { sleep } from './deadline.js';

/** Options of `TcpLoad`. */
export interface TcpLoadOptions {
  /** Sink address and port (in B). */
  address: string;
  port: number;
  /** Concurrent transfer loops. */
  streams: number;
  /** Transfer size range in bytes. */
  minBytes: number;
  maxBytes: number;
  /** Bound on one transfer. */
  timeoutMs: number;
}

/** What the TCP load achieved. */
export interface TcpResults {
  /** Transfers verified byte-exact. */
  transfers: number;
  /** Their bytes. */
  bytes: number;
  /** Longest transfer (ms). */
  slowestMs: number;
  /**
   * Transfers the source's kernel refused to start: connect() failed with
   * ENETUNREACH or EHOSTUNREACH because a link fault had the route down. No byte
   * was sent; the loop tries a new transfer 50 ms later.
   */
  refused: number;
  /** Descriptions of transfers that failed (must stay empty). */
  failures: string[];
}

/** The agent's message for a connect() its kernel refused (`agent in NS: connect ECODE address:port ...`). */
const REFUSED_CONNECT = /\bconnect (ENETUNREACH|EHOSTUNREACH) /;

/** Runs the loops; see the file comment. */
export class TcpLoad {
  /** Results so far. */
  readonly results: TcpResults = { transfers: 0, bytes: 0, slowestMs: 0, refused: 0, failures: [] };
  private readonly source: AgentProcess;
  private readonly options: TcpLoadOptions;
  private readonly prng: Prng;
  private readonly waiting = new Map<number, (e: TcpReceivedEvent | null) => void>();
  private readonly early = new Map<number, TcpReceivedEvent>();
  private running = true;
  private loops: Promise<void>[] = [];

  /** Loops from `source` to `sink`, sizes and seeds from `prng`. */
  constructor(source: AgentProcess, sink: AgentProcess, prng: Prng, options: TcpLoadOptions) {
    this.source = source;
    this.options = options;
    this.prng = prng;
    sink.onTcpReceived = (e) => {
      const w = this.waiting.get(e.seed);
      if (w !== undefined) w(e);
      else this.early.set(e.seed, e);
    };
  }

  /** Starts the loops. */
  start(): void {
    this.loops = Array.from({ length: this.options.streams }, () => this.loop());
  }

  private verdict(seed: number, timeoutMs: number): Promise<TcpReceivedEvent | null> {
    const e = this.early.get(seed);
    if (e !== undefined) {
      this.early.delete(seed);
      return Promise.resolve(e);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seed);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(seed, (ev: TcpReceivedEvent | null) => {
        clearTimeout(timer);
        this.waiting.delete(seed);
        resolve(ev);
      });
    });
  }

  private async loop(): Promise<void> {
    const o = this.options;
    while (this.running) {
      const seed = this.prng.nextU32() || 1;
      const bytes = this.prng.int(o.minBytes, o.maxBytes);
      const verdict = this.verdict(seed, o.timeoutMs + 10_000);
      try {
        const r = await this.source.request('tcp-transfer', { address: o.address, port: o.port, seed, bytes, timeoutMs: o.timeoutMs }, o.timeoutMs + 5000);
        const v = await verdict;
        if (v === null) this.results.failures.push(`transfer ${seed}: the sink never reported it`);
        else if (!v.ok || v.bytes !== bytes) {
          this.results.failures.push(`transfer ${seed}: sink got ${v.bytes} of ${bytes} bytes, first wrong byte at ${v.mismatchAt}`);
        } else {
          this.results.transfers++;
          this.results.bytes += bytes;
          this.results.slowestMs = Math.max(this.results.slowestMs, r.ms);
        }
      } catch (e) {
        const message = (e as Error).message;
        if (REFUSED_CONNECT.test(message)) {
          // Never connected, so the sink will not report it: stop waiting for it.
          this.waiting.get(seed)?.(null);
          this.results.refused++;
          await sleep(50);
          continue;
        }
        this.results.failures.push(`transfer ${seed}: ${message}`);
        await verdict;
      }
    }
  }

  /** Starts no more transfers; resolves when the running ones ended. */
  async stop(): Promise<TcpResults> {
    this.running = false;
    await Promise.all(this.loops);
    return this.results;
  }
}
