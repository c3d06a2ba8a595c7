/**
 * Private network namespaces for tests.
 *
 *     const ns = createNetns(t, 'addr');        // ip netns add tp-addr-<pid>-<n>; lo up
 *     await ns.exec('ping', ['-c', '1', '198.18.0.1']);
 *     const links = await ns.ipJson('link', 'show');
 *     {
 *       using _ = ns.enter();                  // this thread now lives in ns
 *       ... create sockets / devices ...
 *     }                                        // back where it was
 *
 * Every namespace is deleted in the test's teardown (also when the test failed) and,
 * should the process die first, by the process-exit safety net; namespaces left by
 * a process that was SIGKILLed are swept by the next test process that creates one.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_COMMAND_TIMEOUT_MS, expectSuccess, runCommand, runCommandSync, type CommandResult } from './command.js';
import { onExitCleanup } from './exit-cleanup.js';
import { Peer, type PeerOptions } from './peer.js';
import { enterNamespaceFile } from './thread-netns.js';
import type { TestContext } from './test-context.js';

/** Where `ip netns add` mounts named namespaces. */
export const NETNS_RUN_DIR = '/var/run/netns';

let counter = 0;
let swept = false;

/** Names testkit gives namespaces: `tp-<tag>-<pid>-<n>`. */
const TESTKIT_NAME = /^tp-[a-z0-9]+-(\d+)-\d+$/;

/**
 * Deletes namespaces that testkit created in processes that no longer exist (a test
 * process killed with SIGKILL never runs its safety net). Runs once per process,
 * before its first namespace is created; returns the names it deleted.
 */
export function sweepStaleNetns(): string[] {
  const deleted: string[] = [];
  for (const name of listNetns()) {
    const m = TESTKIT_NAME.exec(name);
    if (m === null || processAlive(Number(m[1]))) continue;
    const r = runCommandSync('ip', ['netns', 'del', name]);
    if (r.code === 0) deleted.push(name);
  }
  return deleted;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options of `Netns.exec`. */
export interface ExecOptions {
  /** Kill the command after this many milliseconds. Default 10 000. */
  timeoutMs?: number;
}

/** A named network namespace owned by one test. */
export class Netns {
  /** The namespace's name (`tp-<tag>-<pid>-<n>`), as `ip netns list` shows it. */
  readonly name: string;
  private readonly peers = new Set<Peer>();
  private readonly entered: Array<() => void> = [];
  private deleted = false;
  private readonly unregister: () => void;

  private constructor(name: string) {
    this.name = name;
    expectSuccess('ip', ['netns', 'add', name], runCommandSync('ip', ['netns', 'add', name]));
    this.unregister = onExitCleanup(() => this.deleteSync());
    try {
      const up = ['-n', name, 'link', 'set', 'lo', 'up'];
      expectSuccess('ip', up, runCommandSync('ip', up));
    } catch (e) {
      this.deleteSync();
      throw e;
    }
  }

  /**
   * Creates `tp-<tag>-<pid>-<n>` with `lo` up, deleted in `t`'s teardown. `tag` is
   * reduced to at most 12 characters of [a-z0-9].
   */
  static create(t: TestContext, tag: string): Netns {
    if (!swept) {
      swept = true;
      sweepStaleNetns();
    }
    const clean = tag.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12) || 'ns';
    const ns = new Netns(`tp-${clean}-${process.pid}-${++counter}`);
    t.teardown(() => ns.delete());
    return ns;
  }

  /** The namespace file (`/var/run/netns/<name>`), for setns(2) or IFLA_NET_NS_FD. */
  get path(): string {
    return `${NETNS_RUN_DIR}/${this.name}`;
  }

  /** True until `delete()` ran. */
  get alive(): boolean {
    return !this.deleted;
  }

  /** Runs `cmd args...` inside the namespace (`ip netns exec`, no shell, bounded). */
  exec(cmd: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.name, cmd, ...args], options);
  }

  /**
   * Turns IPv6 off for every interface created in the namespace from now on (and
   * those already there). Tests that account for every packet with a device's drop
   * counter need this: otherwise the kernel's own IPv6 router solicitations and MLD
   * reports are counted too when they meet a full queue.
   */
  disableIpv6Sync(): void {
    const args = ['netns', 'exec', this.name, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
    expectSuccess('ip', args, runCommandSync('ip', args));
  }

  /** `ip <args>` inside the namespace (`ip -n <name>`); rejects unless it succeeds. */
  async ip(...args: string[]): Promise<string> {
    const full = ['-n', this.name, ...args];
    return expectSuccess('ip', full, await runCommand('ip', full)).stdout;
  }

  /** Synchronous `ip(...)`, e.g. to create a subject link before a synchronous test step. */
  ipSync(...args: string[]): string {
    const full = ['-n', this.name, ...args];
    return expectSuccess('ip', full, runCommandSync('ip', full)).stdout;
  }

  /** Parsed output of `ip -j <args>` inside the namespace (`[]` when ip printed nothing). */
  async ipJson(...args: string[]): Promise<unknown> {
    return parseIpJson(await this.ip('-j', ...args));
  }

  /** Synchronous `ipJson(...)`. */
  ipJsonSync(...args: string[]): unknown {
    return parseIpJson(this.ipSync('-j', ...args));
  }

  /**
   * Starts a long-running program inside the namespace (tcpdump, a server...); it is
   * stopped in the test's teardown, before the namespace is deleted.
   */
  spawn(t: TestContext, cmd: string, args: readonly string[] = [], options: PeerOptions = {}): Peer {
    const peer = Peer.start(t, 'ip', ['netns', 'exec', this.name, cmd, ...args], options);
    this.peers.add(peer);
    return peer;
  }

  /**
   * Moves the CALLING thread (normally the main thread) into this namespace with
   * setns(2). Dispose the result to move it back to the namespace it was in; the
   * test's teardown (and `delete()`) does that too if the test forgot.
   */
  enter(): Disposable & { exit(): void } {
    if (this.deleted) throw new Error(`netns ${this.name} was deleted`);
    const restore = enterNamespaceFile(this.path);
    let done = false;
    const exit = (): void => {
      if (done) return;
      done = true;
      const i = this.entered.lastIndexOf(exit);
      if (i >= 0) this.entered.splice(i, 1);
      restore();
    };
    this.entered.push(exit);
    return { exit, [Symbol.dispose]: exit };
  }

  /**
   * Deletes the namespace now: restores threads that entered it, stops its peers,
   * `ip netns del`. Devices inside are destroyed once nothing references the
   * namespace any more. Idempotent.
   */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.restoreThreads();
    await Promise.all([...this.peers].map((p) => p.stop()));
    this.peers.clear();
    this.deleteSync();
  }

  private restoreThreads(): void {
    while (this.entered.length > 0) this.entered[this.entered.length - 1]();
  }

  private deleteSync(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.unregister();
    try {
      this.restoreThreads();
    } finally {
      for (const p of this.peers) if (!p.exitedAlready) p.child.kill('SIGKILL');
      if (existsSync(this.path)) {
        const args = ['netns', 'del', this.name];
        expectSuccess('ip', args, runCommandSync('ip', args, { timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS }));
      }
    }
  }
}

/** Creates a private namespace for the test (see `Netns.create`). */
export function createNetns(t: TestContext, tag: string): Netns {
  return Netns.create(t, tag);
}

/** Names from `ip netns list` (the oracle for "nothing left behind"). */
export function listNetns(): string[] {
  const args = ['netns', 'list'];
  const r = expectSuccess('ip', args, runCommandSync('ip', args));
  return r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name): name is string => name !== undefined && name !== '');
}

function parseIpJson(text: string): unknown {
  const trimmed = text.trim();
  return trimmed === '' ? [] : JSON.parse(trimmed);
}

/**
 * Creates a private namespace, runs `fn` with the calling thread inside it, and
 * moves the thread back when `fn` returns or its promise settles (the namespace
 * itself lives until the test's teardown). While an async `fn` awaits, everything
 * else the main thread runs is inside the namespace too: keep such stretches short,
 * or create what you need inside and `await` outside (`ns.enter()` gives that control).
 */
export async function withNetns<T>(t: TestContext, tag: string, fn: (ns: Netns) => T | Promise<T>): Promise<T> {
  const ns = Netns.create(t, tag);
  const entry = ns.enter();
  try {
    return await fn(ns);
  } finally {
    entry.exit();
  }
}
