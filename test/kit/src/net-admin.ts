/**
 * CI gating for tests that create devices or namespaces.
 *
 * Pattern, first line of every such test:
 *
 *     t.test('addresses round trip', async (t) => {
 *       if (!requireNetAdmin(t)) return;
 *       ...
 *     });
 *
 * Without privileges the test is skipped with a visible reason; under `CI=true` it
 * fails instead, so that a CI run can never pass by skipping the device tests.
 */
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { GatingContext } from './test-context.js';

/** Bit of CAP_NET_ADMIN in the capability sets, <linux/capability.h>. */
const CAP_NET_ADMIN = 12;

let cachedReason: string | null | undefined;

/**
 * Why device tests cannot run in this process, or `null` when they can
 * (CAP_NET_ADMIN in the effective set, `/dev/net/tun` openable, `ip` runnable).
 */
export function netAdminMissing(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = probe();
  return cachedReason;
}

function probe(): string | null {
  const status = readFileSync('/proc/self/status', 'utf8');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const caps = capEff === null ? 0n : BigInt(`0x${capEff[1]}`);
  if ((caps & (1n << BigInt(CAP_NET_ADMIN))) === 0n) {
    return 'needs root or CAP_NET_ADMIN (run as root, or `setcap cap_net_admin+ep $(which node)`)';
  }
  try {
    accessSync('/dev/net/tun', fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    return 'needs /dev/net/tun (try `modprobe tun`)';
  }
  const ip = spawnSync('ip', ['-V'], { stdio: 'ignore', timeout: 5000 });
  if (ip.error !== undefined || ip.status !== 0) return 'needs the `ip` command (Debian package iproute2)';
  return null;
}

/** True when `process.env.CI` asks for device tests to fail rather than skip. */
export function isCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * Returns true when the test can create devices and namespaces. Otherwise ends the
 * test: as a failure under `CI=true`, as a visible skip (with the reason) elsewhere,
 * and returns false; the caller then returns at once.
 */
export function requireNetAdmin(t: GatingContext): boolean {
  const reason = netAdminMissing();
  if (reason === null) return true;
  if (isCi()) {
    t.fail(`device test cannot run under CI=true: ${reason}`);
    return false;
  }
  t.plan(0, `skipped: ${reason}`);
  return false;
}
