/**
 * `openTun()` refuses bad options before it touches the system, and maps the
 * plain device fields onto core's `DeviceBuilder`; the consumer gate admits one
 * consumer at a time.
 */
import t from 'tap';
import { DeviceBuilder } from '@tunpipe/core';
import { openFds } from '@tunpipe/testkit';
import { openTun, checkTunOptions, builderFromOptions, type OpenTunOptions } from '../src/open-tun.js';
import { ConsumerGate } from '../src/consumer-gate.js';

/** A handler module that exists (one of the streams tests'). */
const HANDLER = new URL('./handlers/drop-odd.js', import.meta.url);

/** Options refused before any device exists: name, options, code, message. */
const ROWS: Array<[string, unknown, string, RegExp]> = [
  ['not an object', 'tp0', 'ERR_TUN_INVALID_ARGUMENT', /options must be an object/],
  ['unknown key (typo)', { nmae: 'tp0' }, 'ERR_TUN_INVALID_ARGUMENT', /unknown option "nmae"/],
  ['builder and fields', { builder: new DeviceBuilder(), name: 'tp0' }, 'ERR_TUN_INVALID_ARGUMENT', /one way/],
  ['builder that is not one', { builder: { name: 'x' } }, 'ERR_TUN_INVALID_ARGUMENT', /DeviceBuilder/],
  ['device that is not one', { device: 3 }, 'ERR_TUN_INVALID_ARGUMENT', /must be a Device/],
  ['negative retain', { retain: -1 }, 'ERR_TUN_INVALID_ARGUMENT', /retain/],
  ['fractional retain', { retain: 1.5 }, 'ERR_TUN_INVALID_ARGUMENT', /retain/],
  ['retain too large', { retain: 5000 }, 'ERR_TUN_INVALID_ARGUMENT', /retain/],
  ['negative spin', { spin: -1 }, 'ERR_TUN_INVALID_ARGUMENT', /spin/],
  ['spin too long', { spin: 1001 }, 'ERR_TUN_INVALID_ARGUMENT', /spin/],
  ['spin not a number', { spin: '50' }, 'ERR_TUN_INVALID_ARGUMENT', /spin/],
  ['spin NaN', { spin: Number.NaN }, 'ERR_TUN_INVALID_ARGUMENT', /spin/],
  ['copy not boolean', { copy: 'yes' }, 'ERR_TUN_INVALID_ARGUMENT', /copy must be a boolean/],
  ['timestamps not boolean', { timestamps: 1 }, 'ERR_TUN_INVALID_ARGUMENT', /timestamps/],
  ['fusePipes not boolean', { fusePipes: 'no' }, 'ERR_TUN_INVALID_ARGUMENT', /fusePipes must be a boolean/],
  ['unknown txQueue', { txQueue: 'random' }, 'ERR_TUN_INVALID_ARGUMENT', /txQueue/],
  ['routes not strings', { routes: [24] }, 'ERR_TUN_INVALID_ARGUMENT', /routes/],
  ['ipv4 not an object', { ipv4: '198.18.0.1/24' }, 'ERR_TUN_INVALID_ARGUMENT', /ipv4/],
  ['bad interface name (core)', { name: 'a/b' }, 'ERR_TUN_INVALID_NAME', /.*/],
  ['bad MTU (core)', { mtu: 10 }, 'ERR_TUN_INVALID_MTU', /.*/],
  // Found by the openTunOptions fuzz target: each used to throw an uncoded
  // error, or to be refused only after the device and its workers existed.
  ['ipv6 entry null', { ipv6: [null] }, 'ERR_TUN_INVALID_ARGUMENT', /ipv6\[0\]/],
  ['ipv6 entry a string', { ipv6: ['fd00::1/64'] }, 'ERR_TUN_INVALID_ARGUMENT', /ipv6\[0\]/],
  ['ipv6 entry without a prefix', { ipv6: [{ address: 'fd00::1' }] }, 'ERR_TUN_INVALID_PREFIX', /.*/],
  ['ipv4 null', { ipv4: null }, 'ERR_TUN_INVALID_ARGUMENT', /ipv4/],
  ['route without a prefix', { routes: ['198.18.9.0'] }, 'ERR_TUN_INVALID_PREFIX', /.*/],
  ['route that is not an address', { routes: ['198.18.9/24'] }, 'ERR_TUN_INVALID_ADDRESS', /.*/],
  ['macAddr on a TUN device (builder combination)', { macAddr: '02:00:00:00:00:01' }, 'ERR_TUN_INVALID_OPTION', /macAddr/],
  ['MTU 1200 with an IPv6 address (builder combination)', { mtu: 1200, ipv6: [{ address: 'fd00::1', prefix: 64 }] }, 'ERR_TUN_INVALID_MTU', /1280/],
  ['queues 0 (linux-mq)', { queues: 0 }, 'ERR_TUN_INVALID_ARGUMENT', /queues/],
  ['statsInterval Infinity (linux-mq)', { statsInterval: Number.POSITIVE_INFINITY }, 'ERR_TUN_INVALID_ARGUMENT', /statsInterval/],
  ['onHandlerError not a function (linux-mq)', { onHandlerError: 'log' }, 'ERR_TUN_INVALID_ARGUMENT', /onHandlerError/],
  ['handlerData a function (linux-mq)', { handler: HANDLER, handlerData: () => 1 }, 'ERR_TUN_INVALID_ARGUMENT', /structured clone/],
  ['handler module that does not exist (linux-mq)', { handler: '/nonexistent/tp-bad-handler.js' }, 'ERR_TUN_HANDLER', /does not exist/],
  ['retain a string', { retain: '5' }, 'ERR_TUN_INVALID_ARGUMENT', /retain/],
];

t.test('table: openTun refuses options before any device exists', async (t) => {
  for (const [name, options, code, message] of ROWS) {
    await t.rejects(openTun(options as OpenTunOptions), { code, message }, name);
  }
});

t.test('checkTunOptions refuses the same options with the same codes, and opens nothing', async (t) => {
  const fds = openFds();
  for (const [name, options, code, message] of ROWS) {
    t.throws(() => checkTunOptions(options as OpenTunOptions), { code, message }, name);
  }
  for (const good of [
    {},
    { name: 'tp%d', ipv4: { address: '198.18.0.1', prefix: 24 }, ipv6: [{ address: 'fd00::1', prefix: 64 }], mtu: 1400, queues: 2, routes: ['198.18.9.0/24', 'fd00:9::/64'] },
    { layer: 'l2', macAddr: '02:00:00:00:00:01', handler: HANDLER, handlerData: { n: 1, list: [1, 2] }, retain: 0, spin: 50 },
    { builder: new DeviceBuilder().name('tp%d'), mode: 'keep', statsInterval: 0 },
  ] as OpenTunOptions[]) {
    t.doesNotThrow(() => checkTunOptions(good), `accepted: ${JSON.stringify(good, (_k, v: unknown) => (v instanceof URL ? v.href : v))}`);
  }
  t.equal(openFds(), fds, 'no fd opened');
});

t.test('device fields map onto the builder', async (t) => {
  const b = builderFromOptions({
    name: 'tp%d',
    ipv4: { address: '198.18.0.1', prefix: '255.255.255.0', destination: '198.18.0.2' },
    ipv6: [{ address: 'fd00::1', prefix: 64 }, { address: 'fd00:1::1', prefix: 48 }],
    mtu: 1400,
    offload: true,
    txQueueLen: 5000,
    enable: false,
    persist: false,
  });
  const o = b.options();
  t.same(
    { name: o.name, ipv4: o.ipv4, ipv6: o.ipv6, mtu: o.mtu, offload: o.offload, txQueueLen: o.txQueueLen, enable: o.enable, persist: o.persist },
    {
      name: 'tp%d',
      ipv4: { address: '198.18.0.1', prefix: 24, destination: '198.18.0.2' },
      ipv6: [{ address: 'fd00::1', prefix: 64 }, { address: 'fd00:1::1', prefix: 48 }],
      mtu: 1400,
      offload: true,
      txQueueLen: 5000,
      enable: false,
      persist: false,
    },
  );
  const tap = builderFromOptions({ layer: 'l2', macAddr: '02:00:00:00:00:01' }).options();
  t.equal(tap.layer, 'l2');
  t.same([...tap.macAddr!], [2, 0, 0, 0, 0, 1]);
});

t.test('consumer gate: one at a time, named in the error, reusable after release', async (t) => {
  const gate = new ConsumerGate();
  const a = gate.claim('readable');
  t.equal(gate.active, 'readable');
  t.throws(() => gate.claim('packets$'), { code: 'ERR_TUN_CONSUMER_ACTIVE', message: /packets\$.*readable is reading/ });
  a.release();
  t.equal(gate.active, undefined);
  const b = gate.claim('batches');
  a.release();
  t.equal(gate.active, 'batches', 'a stale lease releasing again does not free the new holder');
  b.release();
  t.equal(gate.active, undefined);
});
