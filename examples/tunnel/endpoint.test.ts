/** Endpoint and address parsing of the tunnel's command line, as a table. */
import t from 'tap';
import { formatEndpoint, parseCidr, parseEndpoint } from './endpoint.js';

t.test('parseEndpoint / formatEndpoint', async (t) => {
  const good: Array<[string, string, number]> = [
    ['198.18.10.2:7000', '198.18.10.2', 7000],
    ['[fd00:10::2]:7000', 'fd00:10::2', 7000],
    ['localhost:1', 'localhost', 1],
    ['198.18.10.2:65535', '198.18.10.2', 65535],
  ];
  for (const [text, host, port] of good) {
    t.same(parseEndpoint(text), { host, port }, text);
    t.equal(formatEndpoint({ host, port }), text, `${text} round trip`);
  }
  for (const bad of ['198.18.10.2', '198.18.10.2:0', '198.18.10.2:65536', 'fd00::2:7000', '[fd00::2]', ':7000', '198.18.10.2:70x']) {
    t.throws(() => parseEndpoint(bad), RangeError, bad);
  }
});

t.test('parseCidr', async (t) => {
  t.same(parseCidr('198.18.30.1/24'), { address: '198.18.30.1', prefix: 24, v6: false });
  t.same(parseCidr('fd00:30::1/64'), { address: 'fd00:30::1', prefix: 64, v6: true });
  for (const bad of ['198.18.30.1', '198.18.30.1/33', 'fd00::1/129', 'x/24']) t.throws(() => parseCidr(bad), RangeError, bad);
});
