/**
 * A minimal pcap writer (LINKTYPE_RAW: packets start at the IP header) and a
 * runner for `tcpdump -r -vvv`, the outside oracle for checksums: tcpdump
 * recomputes IP, TCP and UDP checksums and prints `(correct)` or
 * `(incorrect -> 0x....)` for each.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** LINKTYPE_RAW: raw IPv4/IPv6, no link-layer header. */
const LINKTYPE_RAW = 101;

/** The bytes of a pcap file holding `packets`. */
export function pcapBytes(packets: readonly Uint8Array[]): Uint8Array {
  const total = 24 + packets.reduce((a, p) => a + 16 + p.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true); // magic, microsecond timestamps
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true); // snaplen
  dv.setUint32(20, LINKTYPE_RAW, true);
  let at = 24;
  packets.forEach((p, i) => {
    dv.setUint32(at, 1_700_000_000, true);
    dv.setUint32(at + 4, i, true);
    dv.setUint32(at + 8, p.length, true);
    dv.setUint32(at + 12, p.length, true);
    out.set(p, at + 16);
    at += 16 + p.length;
  });
  return out;
}

/** True when `tcpdump` can be run. */
export function haveTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Runs `tcpdump -n -vvv -r` over `packets` and returns its output lines. */
export function tcpdumpVerbose(packets: readonly Uint8Array[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tp-offload-'));
  try {
    const file = join(dir, 'packets.pcap');
    writeFileSync(file, pcapBytes(packets));
    const out = execFileSync('tcpdump', ['-n', '-vvv', '-r', file], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter((l) => l.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
