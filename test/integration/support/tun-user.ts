/**
 * Starting fixtures inside a test namespace with a distribution-style
 * /dev/net/tun (see fixtures/tun-user-launcher.ts), as root or as another user,
 * and the ids the security tests use (unused on any machine: setresuid needs no
 * account).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isCi, type GatingContext, type Netns } from '@tunpipe/testkit';
import { JsonLineChild } from './json-line-child.js';

/** The unprivileged user that owns the test devices. */
export const OWNER_UID = 64123;
/** Its group. */
export const OWNER_GID = 64123;
/** Another unprivileged user. */
export const OTHER_UID = 64124;
/** Its group. */
export const OTHER_GID = 64124;
/** A group only given as a supplementary group. */
export const EXTRA_GID = 64126;

/** Who a fixture runs as: uid, primary gid and exactly these supplementary groups. */
export interface RunAs {
  uid: number;
  gid: number;
  groups?: readonly number[];
}

/** A compiled fixture in ../fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

/**
 * Starts fixture `name` with `args` in `ns`, in a private mount namespace whose
 * /dev/net/tun is crw-rw-rw-, as `as` (or as root).
 */
export function startWithTun(t: GatingContext, ns: Netns, name: string, args: readonly string[], as?: RunAs): JsonLineChild {
  const launcher = [process.execPath, fixturePath('tun-user-launcher')];
  const who = as === undefined ? [] : ['--as', `${as.uid}:${as.gid}:${(as.groups ?? []).join(',')}`];
  return JsonLineChild.start(t, 'ip', ['netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', ...launcher, ...who, fixturePath(name), ...args]);
}

/**
 * True when setpriv and unshare (util-linux) are there and the compiled tests are
 * readable by other users; otherwise skips the test with the reason (fails under CI).
 */
export function requireUserSwitch(t: GatingContext): boolean {
  let reason: string | null = null;
  for (const tool of ['setpriv', 'unshare']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) reason ??= `needs ${tool} (util-linux)`;
  }
  if (reason === null) {
    const probe = spawnSync('setpriv', [`--reuid=${OWNER_UID}`, `--regid=${OWNER_GID}`, '--clear-groups', process.execPath, fixturePath('tun-user-launcher')], { encoding: 'utf8' });
    // The launcher, run without a fixture, exits 2 after loading: anything else means uid OWNER_UID cannot read node or the checkout.
    if (probe.status !== 2) reason = `uid ${OWNER_UID} cannot run ${fixturePath('tun-user-launcher')} (is the checkout world-readable?): ${probe.stderr.trim()}`;
  }
  if (reason === null) return true;
  if (isCi()) {
    t.fail(`security test cannot run under CI=true: ${reason}`);
    return false;
  }
  t.plan(0, `skipped: ${reason}`);
  return false;
}
