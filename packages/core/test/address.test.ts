/**
 * Address parsing and formatting: tables of accepted and rejected forms, RFC 5952
 * canonical output, and properties checked against Node's own `net.isIPv4/isIPv6`.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { isIPv4, isIPv6 } from 'node:net';
import { TunError } from '@tunpipe/offload';
import {
  broadcastAddress,
  checkPrefix,
  formatCidr,
  formatIPv4,
  formatIPv6,
  formatMac,
  hasHostBits,
  ipFamily,
  isMulticastMac,
  isUnicastMac,
  netmaskToPrefix,
  networkAddress,
  parseCidr,
  parseIp,
  parseIPv4,
  parseIPv6,
  parseMac,
  prefixToNetmask,
} from '../src/address.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Asserts that `fn` throws a TunError with `code`. */
function throwsCode(t: Test, fn: () => unknown, code: string, name: string): void {
  try {
    fn();
    t.fail(`${name}: did not throw`);
  } catch (e) {
    t.ok(e instanceof TunError && e.code === code, `${name} -> ${code}`, { got: e });
  }
}

t.test('IPv4: accepted dotted quads', async (t) => {
  const table: Array<[string, string]> = [
    ['198.18.0.1', 'c6120001'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['10.0.0.255', '0a0000ff'],
    ['1.22.133.249', '011685f9'],
  ];
  for (const [text, bytes] of table) {
    t.equal(hex(parseIPv4(text)), bytes, text);
    t.equal(formatIPv4(parseIPv4(text)), text, `${text} formats back`);
  }
});

t.test('IPv4: rejected forms', async (t) => {
  const bad = [
    '', '1', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.256', '01.2.3.4', '1.2.3.04', '1.2.3.4 ',
    ' 1.2.3.4', '1..3.4', '1.2.3.', '.1.2.3', '0x1.2.3.4', '3321298945', '1.2.3.4/24', '1.2.3.-4',
    '1.2.3.4%eth0', '::1', '1234.1.1.1', '１.2.3.4',
  ];
  for (const text of bad) throwsCode(t, () => parseIPv4(text), 'ERR_TUN_INVALID_ADDRESS', JSON.stringify(text));
  throwsCode(t, () => parseIPv4(17 as unknown as string), 'ERR_TUN_INVALID_ADDRESS', 'a number');
});

t.test('IPv6: accepted RFC 4291 forms and their RFC 5952 canonical text', async (t) => {
  const table: Array<[string, string, string]> = [
    ['::', '00000000000000000000000000000000', '::'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['1::', '00010000000000000000000000000000', '1::'],
    ['fd00::1', 'fd000000000000000000000000000001', 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd000000000000000000000000000001', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['2001:db8::0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // one zero group: no ::
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008', '0:2:3:4:5:6:7:8'],
    ['1:0:0:2:0:0:0:3', '00010000000000020000000000000003', '1:0:0:2::3'], // longest run wins
    ['1:0:0:2:0:0:3:4', '00010000000000020000000000030004', '1::2:0:0:3:4'], // first on a tie
    ['fd00:ABCD::EF', 'fd00abcd0000000000000000000000ef', 'fd00:abcd::ef'],
    ['::ffff:198.18.0.1', '00000000000000000000ffffc6120001', '::ffff:198.18.0.1'],
    ['::198.18.0.1', '000000000000000000000000c6120001', '::c612:1'],
    ['64:ff9b::198.18.0.1', '0064ff9b0000000000000000c6120001', '64:ff9b::c612:1'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304', '1:2:3:4:5:6:102:304'],
    ['1:2:3:4:5::1.2.3.4', '00010002000300040005000001020304', '1:2:3:4:5:0:102:304'],
    ['fd00:0:0:0:0:0:0:0', 'fd000000000000000000000000000000', 'fd00::'],
  ];
  for (const [text, bytes, canonical] of table) {
    const parsed = parseIPv6(text);
    t.equal(hex(parsed), bytes, text);
    t.equal(formatIPv6(parsed), canonical, `${text} -> ${canonical}`);
  }
});

t.test('IPv6: rejected forms', async (t) => {
  const bad = [
    '', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1::2', '1::2:', '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8', '12345::', 'g::1', 'fe80::1%eth0', 'fe80::1%1', '1:2:3:4:5:6:7:1.2.3.4',
    '1:2:3:4:5:6::1.2.3.4', '::1.2.3', '::1.2.3.256', '::01.2.3.4', '1.2.3.4::', '::1.2.3.4:5', ' ::1',
    '::1 ', '[::1]', '1.2.3.4', 'fd00::/8', '::ffff:1.2.3.4.5',
  ];
  for (const text of bad) throwsCode(t, () => parseIPv6(text), 'ERR_TUN_INVALID_ADDRESS', JSON.stringify(text));
});

t.test('parse into a caller buffer at an offset', async (t) => {
  const buf = new Uint8Array(24).fill(0xaa);
  t.equal(parseIPv6('fd00::7', buf, 4), buf);
  t.equal(hex(buf), 'aaaaaaaa' + 'fd000000000000000000000000000007' + 'aaaaaaaa');
  t.equal(formatIPv6(buf, 4), 'fd00::7');
  parseIPv4('198.18.1.2', buf, 20);
  t.equal(formatIPv4(buf, 20), '198.18.1.2');
  throwsCode(t, () => parseIPv4('1.2.3.4', buf, 21), 'ERR_TUN_INVALID_ADDRESS', 'buffer too short');
  throwsCode(t, () => formatIPv6(buf, 9), 'ERR_TUN_INVALID_ADDRESS', 'format past the end');
});

t.test('parse into a caller buffer: an offset that is not a non-negative integer is refused, nothing written (found by the addressText fuzz target)', async (t) => {
  // A typed array drops writes at -1, 1.5 or NaN, and an offset of '2' made
  // `offset + octet` the string '20': each once "succeeded" with the address
  // dropped, cut short or written elsewhere.
  const offsets: unknown[] = [-1, -4, 1.5, Number.NaN, Infinity, '2'];
  const parsers: Array<[string, (out: Uint8Array, offset: number) => unknown, string]> = [
    ['parseIPv4', (out, offset) => parseIPv4('198.18.0.1', out, offset), 'ERR_TUN_INVALID_ADDRESS'],
    ['parseIPv6', (out, offset) => parseIPv6('fd00::1', out, offset), 'ERR_TUN_INVALID_ADDRESS'],
    ['parseIPv6 (failing text)', (out, offset) => parseIPv6('198.18.0.1/24', out, offset), 'ERR_TUN_INVALID_ADDRESS'],
    ['parseMac', (out, offset) => parseMac('02:00:5e:10:00:01', out, offset), 'ERR_TUN_INVALID_MAC'],
  ];
  for (const [name, parse, code] of parsers) {
    for (const offset of offsets) {
      const buf = new Uint8Array(32).fill(0xaa);
      throwsCode(t, () => parse(buf, offset as number), code, `${name} at offset ${String(offset)}`);
      t.equal(hex(buf), 'aa'.repeat(32), `${name} at offset ${String(offset)} wrote nothing`);
    }
  }
});

t.test('parseIp picks the family', async (t) => {
  t.same(parseIp('198.18.0.1'), { family: 4, bytes: new Uint8Array([198, 18, 0, 1]) });
  const v6 = parseIp('fd00::1');
  t.equal(v6.family, 6);
  t.equal(hex(v6.bytes), 'fd000000000000000000000000000001');
  t.equal(ipFamily('fd00::1'), 6);
  t.equal(ipFamily('198.18.0.1'), 4);
  t.equal(ipFamily('nope'), null);
  throwsCode(t, () => parseIp('198.18.0'), 'ERR_TUN_INVALID_ADDRESS', 'short v4');
  throwsCode(t, () => parseIp('fd00:::1'), 'ERR_TUN_INVALID_ADDRESS', 'bad v6');
});

t.test('netmasks and prefixes', async (t) => {
  const table: Array<[string, number]> = [
    ['0.0.0.0', 0], ['128.0.0.0', 1], ['255.0.0.0', 8], ['255.254.0.0', 15], ['255.255.255.0', 24],
    ['255.255.255.252', 30], ['255.255.255.254', 31], ['255.255.255.255', 32],
  ];
  for (const [mask, prefix] of table) {
    t.equal(netmaskToPrefix(mask), prefix, `${mask} = /${prefix}`);
    t.equal(prefixToNetmask(prefix), mask, `/${prefix} = ${mask}`);
  }
  for (const mask of ['255.0.255.0', '0.255.255.255', '255.255.255.253', '1.0.0.0', '254.255.255.0']) {
    throwsCode(t, () => netmaskToPrefix(mask), 'ERR_TUN_INVALID_ADDRESS', `non-contiguous ${mask}`);
  }
  throwsCode(t, () => netmaskToPrefix('255.255.255'), 'ERR_TUN_INVALID_ADDRESS', 'malformed mask');
  for (const prefix of [-1, 33, 1.5, NaN, Infinity]) {
    throwsCode(t, () => prefixToNetmask(prefix), 'ERR_TUN_INVALID_PREFIX', `prefix ${prefix}`);
  }
  t.equal(checkPrefix(128, 6), 128);
  throwsCode(t, () => checkPrefix(129, 6), 'ERR_TUN_INVALID_PREFIX', 'v6 129');
  throwsCode(t, () => checkPrefix(33, 4), 'ERR_TUN_INVALID_PREFIX', 'v4 33');
  throwsCode(t, () => checkPrefix('24' as unknown as number, 4), 'ERR_TUN_INVALID_PREFIX', 'string prefix');
});

t.test('CIDR blocks', async (t) => {
  const ok: Array<[string, 4 | 6, string, number]> = [
    ['198.18.0.0/15', 4, 'c6120000', 15],
    ['0.0.0.0/0', 4, '00000000', 0],
    ['198.18.3.4/32', 4, 'c6120304', 32],
    ['fd00::/8', 6, 'fd000000000000000000000000000000', 8],
    ['fd00::1/128', 6, 'fd000000000000000000000000000001', 128],
    ['::/0', 6, '00000000000000000000000000000000', 0],
  ];
  for (const [text, family, bytes, prefix] of ok) {
    const c = parseCidr(text);
    t.same([c.family, hex(c.bytes), c.prefix], [family, bytes, prefix], text);
    t.equal(formatCidr(c.family, c.bytes, c.prefix), text, `${text} formats back`);
  }
  const badPrefix = ['198.18.0.0', '198.18.0.0/', '198.18.0.0/33', 'fd00::/129', '198.18.0.0/024', '198.18.0.0/+4', '198.18.0.0/2 4', '198.18.0.0/1a', '198.18.0.0/-1', '198.18.0.0/1000'];
  for (const text of badPrefix) throwsCode(t, () => parseCidr(text), 'ERR_TUN_INVALID_PREFIX', JSON.stringify(text));
  for (const text of ['198.18.0/24', 'fd00:::/8', '/8', 'x/8']) {
    throwsCode(t, () => parseCidr(text), 'ERR_TUN_INVALID_ADDRESS', JSON.stringify(text));
  }
  t.ok(hasHostBits(parseIPv4('198.18.0.1'), 24));
  t.notOk(hasHostBits(parseIPv4('198.18.0.0'), 24));
  t.notOk(hasHostBits(parseIPv4('198.18.0.1'), 32));
  t.ok(hasHostBits(parseIPv6('fd00::1'), 64));
  t.equal(formatIPv4(networkAddress(parseIPv4('198.19.255.77'), 15)), '198.18.0.0');
  t.equal(formatIPv4(broadcastAddress(parseIPv4('198.18.0.9'), 24)), '198.18.0.255');
  t.equal(formatIPv4(broadcastAddress(parseIPv4('198.18.0.9'), 15)), '198.19.255.255');
});

t.test('MAC addresses', async (t) => {
  const mac = parseMac('02:00:5E:10:0a:FF');
  t.equal(hex(mac), '02005e100aff');
  t.equal(formatMac(mac), '02:00:5e:10:0a:ff');
  t.notOk(isMulticastMac(mac));
  t.ok(isUnicastMac(mac));
  t.ok(isMulticastMac(parseMac('01:00:5e:00:00:01')), 'IPv4 multicast MAC');
  t.ok(isMulticastMac(parseMac('ff:ff:ff:ff:ff:ff')), 'broadcast has the group bit');
  t.notOk(isUnicastMac(parseMac('ff:ff:ff:ff:ff:ff')));
  t.notOk(isUnicastMac(parseMac('00:00:00:00:00:00')), 'all zeros is not assignable');
  const bad = ['', '02:00:5e:10:0a', '02:00:5e:10:0a:ff:00', '02-00-5e-10-0a-ff', '2:0:5e:10:a:ff', '02:00:5e:10:0a:fg', '0200.5e10.0aff', '02:00:5e:10:0a:ff ', '02::5e:10:0a:ff:0'];
  for (const text of bad) throwsCode(t, () => parseMac(text), 'ERR_TUN_INVALID_MAC', JSON.stringify(text));
  throwsCode(t, () => parseMac(null as unknown as string), 'ERR_TUN_INVALID_MAC', 'null');
  const into = new Uint8Array(8);
  parseMac('aa:bb:cc:dd:ee:ff', into, 2);
  t.equal(formatMac(into, 2), 'aa:bb:cc:dd:ee:ff');
});

// ---- properties -------------------------------------------------------------------

const bytes4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
/** IPv6 bytes biased toward zero runs (where the canonical form has choices to make). */
const sparse16 = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => {
    const b = new Uint8Array(16);
    groups.forEach((g, i) => {
      b[i * 2] = g >> 8;
      b[i * 2 + 1] = g & 0xff;
    });
    return b;
  });

t.test('property: IPv4 format/parse round trip', async (t) => {
  fc.assert(fc.property(bytes4, (b) => hex(parseIPv4(formatIPv4(b))) === hex(b)));
  t.pass('4 bytes -> text -> the same 4 bytes');
});

t.test('property: IPv6 format/parse round trip, canonical output is RFC 5952', async (t) => {
  fc.assert(
    fc.property(fc.oneof(bytes16, sparse16), (b) => {
      const text = formatIPv6(b);
      if (hex(parseIPv6(text)) !== hex(b)) return false;
      if (text !== text.toLowerCase() || !isIPv6(text)) return false;
      if (/(^|:)0[0-9a-f]/.test(text.replace(/::ffff:[\d.]+$/, ''))) return false; // no leading zeros
      if ((text.match(/::/g) ?? []).length > 1) return false;
      // never `::` for a single zero group, never a zero run left longer than the one shortened
      const full = text.includes('::') ? 8 - text.split(':').filter((s) => s !== '').length : 0;
      if (text.includes('::') && !text.startsWith('::ffff:') && full < 2 && text !== '::') return false;
      return true;
    }),
  );
  t.pass('16 bytes -> canonical text -> the same 16 bytes');
});

t.test('property: every text form of the same address parses to the same bytes', async (t) => {
  fc.assert(
    fc.property(sparse16, fc.boolean(), fc.boolean(), (b, upper, pad) => {
      const groups = Array.from({ length: 8 }, (_, i) => ((b[i * 2] << 8) | b[i * 2 + 1]).toString(16));
      let text = groups.map((g) => (pad ? g.padStart(4, '0') : g)).join(':');
      if (upper) text = text.toUpperCase();
      return hex(parseIPv6(text)) === hex(b) && formatIPv6(parseIPv6(text)) === formatIPv6(b);
    }),
  );
  t.pass('full, padded and upper-case forms agree with the canonical form');
});

/** Strings over the alphabet of addresses, so that random input is often nearly valid. */
const addressish = fc.string({
  unit: fc.constantFrom('0', '1', '2', '5', '9', 'a', 'f', 'F', 'g', ':', ':', ':', '.', '.', ' ', '%', '/'),
  maxLength: 40,
});
/** Random joins of real groups, with `::` and dotted tails, to hit the edge cases of the grammar. */
const groupish = fc
  .array(fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 5 }), fc.constant(''), fc.constantFrom('1.2.3.4', '255.0.0.256', '01.2.3.4', '198.18.0.1')), { maxLength: 10 })
  .map((parts) => parts.join(':'));

t.test('property: agrees with net.isIPv4 / net.isIPv6 (zones aside) and never throws anything but TunError', async (t) => {
  const agrees = (s: string): boolean => {
    const expect4 = isIPv4(s);
    const expect6 = isIPv6(s) && !s.includes('%');
    let got4 = true;
    let got6 = true;
    try {
      parseIPv4(s);
    } catch (e) {
      if (!(e instanceof TunError) || e.code !== 'ERR_TUN_INVALID_ADDRESS') throw e;
      got4 = false;
    }
    try {
      parseIPv6(s);
    } catch (e) {
      if (!(e instanceof TunError) || e.code !== 'ERR_TUN_INVALID_ADDRESS') throw e;
      got6 = false;
    }
    return got4 === expect4 && got6 === expect6 && (ipFamily(s) ?? 0) === (expect4 ? 4 : expect6 ? 6 : 0);
  };
  fc.assert(fc.property(addressish, agrees), { numRuns: 20_000 });
  fc.assert(fc.property(groupish, agrees), { numRuns: 20_000 });
  fc.assert(fc.property(fc.string({ maxLength: 50 }), agrees), { numRuns: 5_000 });
  t.pass('same verdict as Node on 45 000 strings');
});

t.test('property: netmask <-> prefix, network and broadcast addresses', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 32 }), (p) => netmaskToPrefix(prefixToNetmask(p)) === p));
  fc.assert(
    fc.property(bytes4, fc.integer({ min: 0, max: 32 }), (b, p) => {
      const net = networkAddress(b, p);
      const brd = broadcastAddress(b, p);
      return !hasHostBits(net, p) && hex(networkAddress(brd, p)) === hex(net) && (p === 32 ? hex(brd) === hex(b) : true);
    }),
  );
  t.pass('prefix -> mask -> prefix; network/broadcast share the prefix');
});

t.test('property: MAC round trip', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => hex(parseMac(formatMac(b))) === hex(b)));
  t.pass('6 bytes -> text -> the same 6 bytes');
});
