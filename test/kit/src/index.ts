/** @tunpipe/testkit: private network namespaces, outside oracles, CI gating, leak checks. */
export type { TestContext, GatingContext } from './test-context.js';
export { requireNetAdmin, netAdminMissing, isCi } from './net-admin.js';
export { Netns, createNetns, withNetns, listNetns, sweepStaleNetns, NETNS_RUN_DIR, type ExecOptions } from './netns.js';
export { Peer, type PeerExit, type PeerOptions } from './peer.js';
export { runCommand, runCommandSync, expectSuccess, DEFAULT_COMMAND_TIMEOUT_MS, type CommandResult, type CommandOptions } from './command.js';
export {
  ping,
  tcpdumpRead,
  linkJson,
  addrJson,
  routeJson,
  type PingOptions,
  type PingResult,
  type IpLinkJson,
  type IpAddrJson,
  type IpAddrInfoJson,
  type IpRouteJson,
  type RouteQuery,
} from './oracles.js';
export { openFds, threadCount, settledThreadCount, collectGarbage, settledArrayBuffers } from './leaks.js';
export { deviceFds } from './device-fds.js';
export { onExitCleanup, runExitCleanup } from './exit-cleanup.js';
export { THREAD_NETNS_PATH } from './thread-netns.js';
export { Prng, mixSeed, hashString } from './fuzz-prng.js';
export type { FuzzInput, FuzzTarget, FuzzSuite, FuzzSuiteModule } from './fuzz-suite.js';
export { FuzzInvariantError, invariant } from './fuzz-invariant.js';
export { runTarget, targetNamed, FuzzFailureError, type TargetReport, type FuzzFailure } from './fuzz-harness.js';
export { fuzz, suiteJobs, type FuzzJob, type FuzzOptions, type FuzzResult } from './fuzz-supervisor.js';
export { runFuzzCli, parseFuzzArgs, type FuzzCliArgs } from './fuzz-cli.js';
export { mutateBytes, concat, toHex, fromHex, INTERESTING_U8, INTERESTING_U16 } from './fuzz-mutate.js';
export { TCP_BULK_PEER, parseTcpBulkReport, tcpBulkTransfer, type TcpBulkReport, type TcpBulkOptions, type TcpBulkResult } from './tcp-bulk.js';
export { refusalCode } from './refusal.js';
