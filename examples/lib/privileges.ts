/** Explains what the examples need when they cannot create devices. */
import { accessSync, constants, readFileSync } from 'node:fs';

/** CAP_NET_ADMIN is bit 12 of the effective capability set. */
const CAP_NET_ADMIN = 12n;

/** Returns null when this process can create TUN/TAP devices and namespaces, else what is missing. */
export function missingPrivileges(): string | null {
  const status = readFileSync('/proc/self/status', 'utf8');
  const eff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  if (((BigInt(`0x${eff}`) >> CAP_NET_ADMIN) & 1n) === 0n) {
    return 'needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN for namespaces): run it with sudo';
  }
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is missing or not accessible: run `modprobe tun`';
  }
  return null;
}
