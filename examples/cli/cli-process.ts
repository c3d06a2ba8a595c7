/**
 * Test support for the CLI tests: the compiled `tunpipe` entry, run as a child
 * process inside a test namespace (`ip netns exec`), bounded in time.
 */
import { fileURLToPath } from 'node:url';
import { runCommand, type CommandResult, type Netns, type Peer, type TestContext } from '@tunpipe/testkit';

/** Path of the compiled entry (`examples/dist/cli/main.js`). */
export const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Runs `tunpipe args...` to completion in the current namespace (killed after `timeoutMs`). */
export function runTunpipe(args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> {
  return runCommand(process.execPath, [CLI_MAIN, ...args], { timeoutMs });
}

/** Runs `tunpipe args...` to completion inside `ns`. */
export function runTunpipeIn(ns: Netns, args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> {
  return ns.exec(process.execPath, [CLI_MAIN, ...args], { timeoutMs });
}

/** Starts a long-running `tunpipe args...` inside `ns`; stopped in teardown at the latest. */
export function startTunpipe(t: TestContext, ns: Netns, args: readonly string[]): Peer {
  return ns.spawn(t, process.execPath, [CLI_MAIN, ...args]);
}

/** Names of the links in `ns` (`ip -j link`), sorted. */
export async function linkNames(ns: Netns): Promise<string[]> {
  const links = (await ns.ipJson('link', 'show')) as Array<{ ifname: string }>;
  return links.map((l) => l.ifname).sort();
}

/** How long a test waits for a started CLI to report that it is up (Node start, workers, device). Generous: the machine is shared. */
export const STARTUP = { timeoutMs: 20_000 };
