/**
 * `openTun()` refuses bad options before it touches the system, and maps the
 * plain device fields onto core's `DeviceBuilder`; the consumer gate admits one
 * consumer at a time.
 */
import t from 'tap';
import { DeviceBuilder } from '@tunpipe/core';
import { openTun, builderFromOptions, type OpenTunOptions } from '../src/open-tun.js';
import { ConsumerGate } from '../src/consumer-gate.js';

t.test('table: options refused before any device exists', async (t) => {
  const rows: Array<[string, unknown, string, RegExp]> = [
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
  ];
  for (const [name, options, code, message] of rows) {
    await t.rejects(openTun(options as OpenTunOptions), { code, message }, name);
  }
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
