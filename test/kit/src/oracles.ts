/**
 * Outside oracles: the real `ping`, `tcpdump -r` and `ip -j` judge what tunpipe did,
 * instead of tunpipe reading back its own state.
 */
import { expectSuccess, runCommand } from './command.js';
import type { Netns } from './netns.js';

/** Options of `ping`. */
export interface PingOptions {
  /** Echo requests to send. Default 3. */
  count?: number;
  /** Seconds between requests. Default 0.2. */
  intervalS?: number;
  /** Seconds to wait for each reply (`-W`). Default 1. */
  timeoutS?: number;
  /** Force IPv6 (`-6`); by default the family follows the address. */
  v6?: boolean;
}

/** What `ping` reported. */
export interface PingResult {
  transmitted: number;
  received: number;
  /** ping's full output, for diagnostics. */
  output: string;
}

/**
 * Runs `ping -c count` inside `ns` toward `address` (198.18.0.0/15 or fd00::/8 only)
 * and returns the counts from its summary line. Sends exactly `count` requests
 * (no `-w`: with a deadline ping keeps sending until `count` replies arrive) and is
 * killed if it runs a few seconds past `count * intervalS + timeoutS`.
 */
export async function ping(ns: Netns, address: string, options: PingOptions = {}): Promise<PingResult> {
  const count = options.count ?? 3;
  const intervalS = options.intervalS ?? 0.2;
  const timeoutS = options.timeoutS ?? 1;
  const v6 = options.v6 ?? address.includes(':');
  const expectedS = count * intervalS + timeoutS;
  const args = [v6 ? '-6' : '-4', '-n', '-c', String(count), '-i', String(intervalS), '-W', String(timeoutS), address];
  const r = await ns.exec('ping', args, { timeoutMs: Math.ceil((expectedS + 5) * 1000) });
  const output = r.stdout + r.stderr;
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (m === null) throw new Error(`ping ${args.join(' ')} printed no summary: ${output.trim()}`);
  return { transmitted: Number(m[1]), received: Number(m[2]), output };
}

/** Lines of `tcpdump -nn -r file` (plus `extraArgs`, e.g. `['-e']` or `['-v']`). */
export async function tcpdumpRead(file: string, extraArgs: readonly string[] = []): Promise<string[]> {
  const args = ['-nn', '-r', file, ...extraArgs];
  const r = expectSuccess('tcpdump', args, await runCommand('tcpdump', args));
  return r.stdout.split('\n').filter((line) => line !== '');
}

/** One link as `ip -j -d link show` prints it (the fields tests use; more are present). */
export interface IpLinkJson {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  txqlen?: number;
  link_type: string;
  address?: string;
  broadcast?: string;
  num_tx_queues?: number;
  num_rx_queues?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  [field: string]: unknown;
}

/** One address of `ip -j addr show`. */
export interface IpAddrInfoJson {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  /** The peer of a point-to-point address. */
  address?: string;
  broadcast?: string;
  scope: string;
  [field: string]: unknown;
}

/** One link's entry of `ip -j addr show dev X`. */
export interface IpAddrJson {
  ifindex: number;
  ifname: string;
  addr_info: IpAddrInfoJson[];
  [field: string]: unknown;
}

/** One route of `ip -j route show`. */
export interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  table?: string;
  flags: string[];
  [field: string]: unknown;
}

/** `ip -j -d link show dev <dev>` inside `ns`: the link, or rejects if there is none. */
export async function linkJson(ns: Netns, dev: string): Promise<IpLinkJson> {
  const links = (await ns.ipJson('-d', 'link', 'show', 'dev', dev)) as IpLinkJson[];
  if (links.length !== 1) throw new Error(`ip link show dev ${dev} in ${ns.name}: ${links.length} links`);
  return links[0];
}

/** `ip -j addr show dev <dev>` inside `ns`: the link's entry with its `addr_info`. */
export async function addrJson(ns: Netns, dev: string): Promise<IpAddrJson> {
  const entries = (await ns.ipJson('addr', 'show', 'dev', dev)) as IpAddrJson[];
  if (entries.length !== 1) throw new Error(`ip addr show dev ${dev} in ${ns.name}: ${entries.length} entries`);
  return entries[0];
}

/** Options of `routeJson`. */
export interface RouteQuery {
  /** 4 or 6 (default: both families). */
  family?: 4 | 6;
  /** A table id or name (`main`, `local`, `all`...). Default `main`. */
  table?: number | string;
}

/** `ip -j route show dev <dev>` inside `ns` (IPv4 then IPv6 when no family is given). */
export async function routeJson(ns: Netns, dev: string, query: RouteQuery = {}): Promise<IpRouteJson[]> {
  const table = String(query.table ?? 'main');
  const families = query.family === undefined ? [4, 6] : [query.family];
  const routes: IpRouteJson[] = [];
  for (const f of families) {
    routes.push(...((await ns.ipJson(`-${f}`, 'route', 'show', 'table', table, 'dev', dev)) as IpRouteJson[]));
  }
  return routes;
}
