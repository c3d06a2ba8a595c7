/**
 * Validation rules, without devices: each validator's accepted and rejected
 * inputs with their exact codes, and the interface-name rule checked against a
 * model of the kernel's `dev_valid_name` + `dev_alloc_name` template rule.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { TunError } from '@tunpipe/offload';
import {
  validateName, validateIPv4, validateIPv6, validateIp, validateIPv4Prefix, validateIPv6Prefix, validateMtu,
  validateMac, validateTxQueueLen, validateId, validateBoolean, validateLayer, validateCidr, validateFd,
  validateBuffer, validateTimeout, validateSignal, validateNetnsTarget, isNameTemplate,
} from '../src/validate.js';
import { DeviceErrorCode } from '../src/error-codes.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof TunError ? e.code : `not a TunError: ${String(e)}`;
  }
  return 'no error';
}

function rejects(t: Test, cases: Array<[string, () => unknown, string]>): void {
  for (const [label, fn, expected] of cases) t.equal(code(fn), expected, label);
}

t.test('names: the kernel rules', async (t) => {
  for (const ok of ['tp0', 'a', 'abcdefghijklmno', 'tun%d', '%d', 'x-y_z.1', 'éé', 'tp@1', '...']) {
    t.equal(validateName(ok), ok, `accepts ${JSON.stringify(ok)}`);
  }
  rejects(t, [
    ['empty', () => validateName(''), 'ERR_TUN_INVALID_NAME'],
    ['16 bytes', () => validateName('abcdefghijklmnop'), 'ERR_TUN_INVALID_NAME'],
    ['8 two-byte chars', () => validateName('éééééééé'), 'ERR_TUN_INVALID_NAME'],
    ['.', () => validateName('.'), 'ERR_TUN_INVALID_NAME'],
    ['..', () => validateName('..'), 'ERR_TUN_INVALID_NAME'],
    ['slash', () => validateName('a/b'), 'ERR_TUN_INVALID_NAME'],
    ['colon', () => validateName('eth0:1'), 'ERR_TUN_INVALID_NAME'],
    ['space', () => validateName('a b'), 'ERR_TUN_INVALID_NAME'],
    ['tab', () => validateName('a\tb'), 'ERR_TUN_INVALID_NAME'],
    ['newline', () => validateName('a\n'), 'ERR_TUN_INVALID_NAME'],
    ['NUL', () => validateName('a\0b'), 'ERR_TUN_INVALID_NAME'],
    ['%s', () => validateName('tun%s'), 'ERR_TUN_INVALID_NAME'],
    ['two %d', () => validateName('a%db%d'), 'ERR_TUN_INVALID_NAME'],
    ['lone %', () => validateName('tun%'), 'ERR_TUN_INVALID_NAME'],
    ['number', () => validateName(7), 'ERR_TUN_INVALID_NAME'],
  ]);
  t.ok(isNameTemplate('tun%d'));
  t.notOk(isNameTemplate('tun0'));
});

/** Model of net/core/dev.c: dev_valid_name() and the single-%d rule of dev_alloc_name(). */
function kernelAccepts(name: string): boolean {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length >= 16) return false;
  if (name === '.' || name === '..') return false;
  for (const b of bytes) if (b === 0x2f || b === 0x3a || b === 0 || b === 0x20 || (b >= 9 && b <= 13)) return false;
  const p = name.indexOf('%');
  if (p >= 0 && (name[p + 1] !== 'd' || name.indexOf('%', p + 1) >= 0)) return false;
  return true;
}

t.test('names: property, agrees with the kernel model on arbitrary strings', async (t) => {
  const alphabet = fc.constantFrom('a', 'Z', '0', '%', 'd', '/', ':', ' ', '\t', '.', '-', 'é', '\0', '\n');
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 20 }).map((a) => a.join('')), (name) => {
      const accepted = code(() => validateName(name)) === 'no error';
      return accepted === kernelAccepts(name);
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 names agree');
});

t.test('addresses, prefixes and netmasks', async (t) => {
  t.equal(validateIPv4('198.18.0.1'), '198.18.0.1');
  t.equal(validateIPv6('FD00:0:0::01'), 'fd00::1', 'canonical IPv6');
  t.same(validateIp('fd00::2'), { address: 'fd00::2', family: 6 });
  t.same(validateIp('198.18.0.2'), { address: '198.18.0.2', family: 4 });
  t.equal(validateIPv4Prefix(24), 24);
  t.equal(validateIPv4Prefix('255.255.255.0'), 24, 'netmask string');
  t.equal(validateIPv4Prefix('255.254.0.0'), 15);
  t.equal(validateIPv4Prefix(0), 0);
  t.equal(validateIPv6Prefix(128), 128);
  t.same(validateCidr('198.18.4.0/24').prefix, 24);
  rejects(t, [
    ['IPv6 as IPv4', () => validateIPv4('fd00::1'), 'ERR_TUN_INVALID_ADDRESS'],
    ['IPv4 as IPv6', () => validateIPv6('198.18.0.1'), 'ERR_TUN_INVALID_ADDRESS'],
    ['garbage', () => validateIp('nope'), 'ERR_TUN_INVALID_ADDRESS'],
    ['prefix 33', () => validateIPv4Prefix(33), 'ERR_TUN_INVALID_PREFIX'],
    ['prefix -1', () => validateIPv4Prefix(-1), 'ERR_TUN_INVALID_PREFIX'],
    ['prefix 1.5', () => validateIPv4Prefix(1.5), 'ERR_TUN_INVALID_PREFIX'],
    ['non-contiguous netmask', () => validateIPv4Prefix('255.0.255.0'), 'ERR_TUN_INVALID_ADDRESS'],
    ['netmask garbage', () => validateIPv4Prefix('255.255.255'), 'ERR_TUN_INVALID_ADDRESS'],
    ['v6 prefix 129', () => validateIPv6Prefix(129), 'ERR_TUN_INVALID_PREFIX'],
    ['v6 prefix as string', () => validateIPv6Prefix('64'), 'ERR_TUN_INVALID_PREFIX'],
    ['cidr without prefix', () => validateCidr('198.18.0.0'), 'ERR_TUN_INVALID_PREFIX'],
    ['cidr bad address', () => validateCidr('198.18.0/24'), 'ERR_TUN_INVALID_ADDRESS'],
  ]);
});

t.test('MTU, MAC, tx queue length, ids, booleans, layer', async (t) => {
  t.equal(validateMtu(68), 68);
  t.equal(validateMtu(65535), 65535);
  t.same([...validateMac('02:00:5E:10:00:01')], [2, 0, 0x5e, 0x10, 0, 1]);
  t.same([...validateMac(new Uint8Array([2, 1, 2, 3, 4, 5]))], [2, 1, 2, 3, 4, 5]);
  t.equal(validateTxQueueLen(0), 0);
  t.equal(validateId(0, 'uid'), 0);
  t.equal(validateId(0xfffffffe, 'gid'), 0xfffffffe);
  t.equal(validateLayer('l2'), 'l2');
  t.equal(validateBoolean(false, 'x'), false);
  rejects(t, [
    ['mtu 67', () => validateMtu(67), 'ERR_TUN_INVALID_MTU'],
    ['mtu 65536', () => validateMtu(65536), 'ERR_TUN_INVALID_MTU'],
    ['mtu NaN', () => validateMtu(Number.NaN), 'ERR_TUN_INVALID_MTU'],
    ['mtu string', () => validateMtu('1500'), 'ERR_TUN_INVALID_MTU'],
    ['mac multicast', () => validateMac('01:00:5e:00:00:01'), 'ERR_TUN_INVALID_MAC'],
    ['mac broadcast', () => validateMac('ff:ff:ff:ff:ff:ff'), 'ERR_TUN_INVALID_MAC'],
    ['mac zero', () => validateMac('00:00:00:00:00:00'), 'ERR_TUN_INVALID_MAC'],
    ['mac dashes', () => validateMac('02-00-00-00-00-01'), 'ERR_TUN_INVALID_MAC'],
    ['mac 5 bytes', () => validateMac(new Uint8Array(5)), 'ERR_TUN_INVALID_MAC'],
    ['txqlen -1', () => validateTxQueueLen(-1), 'ERR_TUN_INVALID_ARGUMENT'],
    ['txqlen 2^32', () => validateTxQueueLen(2 ** 32), 'ERR_TUN_INVALID_ARGUMENT'],
    ['uid -1', () => validateId(-1, 'uid'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['gid 2^32-1', () => validateId(0xffffffff, 'gid'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['boolean 1', () => validateBoolean(1, 'x'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['layer tun', () => validateLayer('tun'), 'ERR_TUN_INVALID_OPTION'],
  ]);
});

t.test('fds, buffers, timeouts, signals, namespace targets', async (t) => {
  t.equal(validateFd(3), 3);
  t.equal(validateTimeout(undefined), undefined);
  t.equal(validateTimeout(0), 0);
  const ac = new AbortController();
  t.equal(validateSignal(ac.signal), ac.signal);
  t.equal(validateNetnsTarget('tp-x'), 'tp-x');
  t.equal(validateNetnsTarget('/proc/1/ns/net'), '/proc/1/ns/net');
  t.equal(validateNetnsTarget(5), 5);
  rejects(t, [
    ['fd -1', () => validateFd(-1), 'ERR_TUN_INVALID_FD'],
    ['fd 1.5', () => validateFd(1.5), 'ERR_TUN_INVALID_FD'],
    ['buffer array', () => validateBuffer([1, 2], 'buf'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['buffer empty', () => validateBuffer(new Uint8Array(0), 'buf'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['timeout -1', () => validateTimeout(-1), 'ERR_TUN_INVALID_ARGUMENT'],
    ['timeout Infinity', () => validateTimeout(Infinity), 'ERR_TUN_INVALID_ARGUMENT'],
    ['signal object', () => validateSignal({ aborted: false }), 'ERR_TUN_INVALID_ARGUMENT'],
    ['netns ..', () => validateNetnsTarget('..'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['netns NUL', () => validateNetnsTarget('a\0'), 'ERR_TUN_INVALID_ARGUMENT'],
    ['netns empty', () => validateNetnsTarget(''), 'ERR_TUN_INVALID_ARGUMENT'],
  ]);
});

t.test("every ERR_TUN_* code in core's sources is in the documented table, and every table entry is used", async (t) => {
  const documented = new Set<string>(Object.values(DeviceErrorCode));
  const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));
  const used = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && entry.name !== 'error-codes.ts') {
        for (const m of readFileSync(path, 'utf8').matchAll(/'(ERR_TUN_[A-Z_]+)'/g)) used.add(m[1]!);
      }
    }
  };
  walk(srcDir);
  used.delete('ERR_TUN_OS'); // libc.ts: only to look up an errno name, never thrown
  t.ok(used.size >= 20, `${used.size} codes found in the sources`);
  for (const code of used) t.ok(documented.has(code), `${code} is documented`);
  for (const code of documented) t.ok(used.has(code), `${code} is thrown somewhere`);
});
