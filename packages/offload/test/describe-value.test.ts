/**
 * `describeValue`: how error messages show a refused value. Table-driven; the
 * hostile rows (symbols, null-prototype objects, revoked proxies, objects whose
 * toString throws) must come out without throwing.
 */
import t from 'tap';
import { describeValue } from '../src/index.js';

const revoked = Proxy.revocable({}, {});
revoked.revoke();

const ROWS: Array<[string, unknown, string]> = [
  ['a string, quoted', 'tp0', '"tp0"'],
  ['an empty string', '', '""'],
  ['a string with a NUL and a quote', 'a\0"b', '"a\\u0000\\"b"'],
  ['a number', 1.5, '1.5'],
  ['NaN', Number.NaN, 'NaN'],
  ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
  ['a bigint', 7n, '7n'],
  ['a boolean', true, 'true'],
  ['null', null, 'null'],
  ['undefined', undefined, 'undefined'],
  ['a symbol', Symbol('x'), 'Symbol(x)'],
  ['a function', () => 1, 'a function'],
  ['an array', [1, 2], 'an array'],
  ['an object', { a: 1 }, 'an object'],
  ['a null-prototype object', Object.create(null), 'an object'],
  ['an object whose toString throws', { toString() { throw new Error('no'); } }, 'an object'],
  ['a revoked proxy', revoked.proxy, 'an object'],
];

for (const [label, value, shown] of ROWS) {
  t.test(label, async (t) => {
    t.equal(describeValue(value), shown);
  });
}
