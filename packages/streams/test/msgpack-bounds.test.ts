/**
 * The msgpack structural pre-check: accepts every single value a real encoder
 * writes, rejects truncations, trailing bytes, the unused type byte and container
 * counts that cannot fit (the allocation bomb that crashes the decoder).
 */
import t from 'tap';
import fc from 'fast-check';
import { encode, decode } from '@msgpack/msgpack';
import { isBoundedMsgpack } from '../src/msgpack-bounds.js';

const hex = (s: string): Uint8Array => new Uint8Array((s.match(/../g) ?? []).map((b) => parseInt(b, 16)));

t.test('every format the msgpack spec defines, one row each', async (t) => {
  const rows: Array<[string, string, boolean]> = [
    ['positive fixint', '7f', true],
    ['negative fixint', 'e0', true],
    ['nil, false, true', '93c0c2c3', true],
    ['never used 0xc1', 'c1', false],
    ['fixmap {1: 2}', '810102', true],
    ['fixarray of 2', '920102', true],
    ['fixstr "ab"', 'a26162', true],
    ['bin8 len 2', 'c4020102', true],
    ['bin16 len 1', 'c5000107', true],
    ['bin32 len 1', 'c60000000107', true],
    ['bin8 length past the end', 'c40501', false],
    ['bin32 4 GiB', 'c6ffffffff00', false],
    ['str8', 'd90161', true],
    ['str16', 'da000161', true],
    ['str32', 'db0000000161', true],
    ['ext8 len 1', 'c7010501', true],
    ['ext16 len 1', 'c800010501', true],
    ['ext32 len 1', 'c9000000010501', true],
    ['fixext1', 'd40501', true],
    ['fixext2', 'd5050102', true],
    ['fixext4', 'd605' + '00'.repeat(4), true],
    ['fixext8', 'd705' + '00'.repeat(8), true],
    ['fixext16', 'd805' + '00'.repeat(16), true],
    ['fixext16 short', 'd805' + '00'.repeat(15), false],
    ['float32', 'ca00000000', true],
    ['float64', 'cb' + '00'.repeat(8), true],
    ['uint8/16/32/64', '94' + 'cc01' + 'cd0001' + 'ce00000001' + 'cf' + '00'.repeat(8), true],
    ['int8/16/32/64', '94' + 'd0ff' + 'd1ffff' + 'd2ffffffff' + 'd3' + 'ff'.repeat(8), true],
    ['array16 of 1', 'dc000101', true],
    ['array32 of 1', 'dd0000000101', true],
    ['map16 of 1', 'de00010101', true],
    ['map32 of 1', 'df000000010101', true],
    ['array16 declaring more items than bytes', 'dcfffe01', false],
    ['map16 declaring 1 pair with 1 byte', 'de000101', false],
    ['nested arrays, each declaring 65534', 'dcfffe'.repeat(100), false],
    ['empty input', '', false],
    ['two values', '0101', false],
    ['array cut short', '9301', false],
  ];
  for (const [name, bytes, ok] of rows) t.equal(isBoundedMsgpack(hex(bytes)), ok, name);
});

t.test('property: anything the encoder writes passes; every strict prefix and any suffix fails', async (t) => {
  fc.assert(
    fc.property(fc.anything({ withTypedArray: false, withMap: false, withSet: false, withBigInt: false }), fc.nat(), (value, cut) => {
      const bytes = encode(value, { ignoreUndefined: false });
      if (!isBoundedMsgpack(bytes)) return false;
      const prefix = bytes.subarray(0, cut % bytes.length);
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      return !isBoundedMsgpack(prefix) && !isBoundedMsgpack(longer);
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 values');
});

t.test('property: on short random bytes, a decode that succeeds was accepted', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
      let decoded = true;
      try {
        decode(bytes);
      } catch {
        decoded = false;
      }
      return !decoded || isBoundedMsgpack(bytes);
    }),
    { numRuns: 20000 },
  );
  t.pass('20000 inputs');
});

t.test('the allocation bomb is refused in linear time', async (t) => {
  const body = new Uint8Array(240 * 1024);
  for (let i = 0; i + 2 < body.length; i += 3) body.set([0xdc, 0xff, 0xfe], i);
  const start = performance.now();
  t.equal(isBoundedMsgpack(body), false);
  t.ok(performance.now() - start < 200, 'checked quickly');
});
