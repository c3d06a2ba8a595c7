/**
 * The machine a benchmark run was taken on: CPU model and count (lscpu),
 * kernel, Node version, memory, load average, as recorded in results.json.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';

/** `{ cpu, cpus, threadsPerCore, kernel, node, memGiB, loadavg, lscpu }` of this machine now. */
export function machineFacts() {
  let lscpu = '';
  try {
    lscpu = execFileSync('lscpu', { encoding: 'utf8' });
  } catch {
    lscpu = '';
  }
  const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(lscpu)?.[1]?.trim() ?? null;
  return {
    cpu: field('Model name') ?? cpus()[0]?.model ?? 'unknown',
    cpus: Number(field('CPU\\(s\\)') ?? cpus().length),
    threadsPerCore: Number(field('Thread\\(s\\) per core') ?? 1),
    hypervisor: field('Hypervisor vendor'),
    kernel: release(),
    node: process.version,
    memGiB: Math.round(totalmem() / 2 ** 30),
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    lscpu,
  };
}
