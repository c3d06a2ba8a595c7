/**
 * struct ifreq encoding: the name sits NUL-terminated in bytes 0..15, the flags in
 * host byte order at byte 16, and nothing else is touched.
 */
import t from 'tap';
import fc from 'fast-check';
import { Ifreq, IfreqField } from '../src/ifreq.js';
import { IFF_TUN, IFF_NO_PI, IFF_VNET_HDR, IFREQ_SIZE } from '../src/constants.js';

t.test('layout: 40 bytes, name at 0, flags at 16 (host order)', async (t) => {
  const req = new Ifreq();
  t.equal(req.bytes.length, IFREQ_SIZE);
  t.equal(IfreqField.name, 0);
  t.equal(IfreqField.flags, 16);
  req.name = 'tp0';
  req.flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  t.same([...req.bytes.subarray(0, 4)], [0x74, 0x70, 0x30, 0]);
  const expected = new Uint8Array(new Uint16Array([0x5001]).buffer);
  t.same([...req.bytes.subarray(16, 18)], [...expected], 'flags 0x5001 in host order');
  t.ok(req.bytes.subarray(18).every((b) => b === 0), 'the rest of the union stays zero');
  t.equal(req.name, 'tp0');
  t.equal(req.flags, 0x5001);
});

t.test('name: 15 bytes fit, 16 do not; a shorter name clears the old one', async (t) => {
  const req = new Ifreq();
  req.name = 'abcdefghijklmno';
  t.equal(req.name, 'abcdefghijklmno');
  t.equal(req.bytes[15], 0, 'terminating NUL');
  t.throws(() => {
    req.name = 'abcdefghijklmnop';
  }, RangeError);
  req.name = 'x';
  t.equal(req.name, 'x');
  t.ok(req.bytes.subarray(1, 16).every((b) => b === 0));
});

t.test('name: multi-byte UTF-8 counts bytes, not characters', async (t) => {
  const req = new Ifreq();
  req.name = 'ééééééé'; // 7 characters, 14 bytes
  t.equal(req.name, 'ééééééé');
  t.throws(() => {
    req.name = 'éééééééé'; // 16 bytes
  }, RangeError);
});

t.test('a name decoded from kernel output without a NUL is cut at 16 bytes', async (t) => {
  const req = new Ifreq();
  req.bytes.fill(0x61, 0, 16);
  t.equal(req.name, 'a'.repeat(16));
});

t.test('flags: low 16 bits round-trip; clear() zeroes everything', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.stringMatching(/^[a-z0-9]{1,15}$/), (flags, name) => {
      const req = new Ifreq();
      req.flags = flags;
      req.name = name;
      return req.flags === flags && req.name === name && req.clear().bytes.every((b) => b === 0);
    }),
  );
  const req = new Ifreq();
  req.flags = 0x12345;
  t.equal(req.flags, 0x2345, 'only the low 16 bits are kept');
});
