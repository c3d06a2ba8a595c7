/**
 * A bounded UDP echo client for `node -e`: `node -e UDP_CLIENT HOST TEXT [PORT]`
 * sends TEXT to HOST:PORT (default 7), prints `reply from ADDR port P: TEXT` or
 * `no reply` after 3 s (exit 1). Run inside a namespace by the examples and tests.
 */
export const UDP_CLIENT = `
const [host, text, port = '7'] = process.argv.slice(1);
const s = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
const timer = setTimeout(() => { console.log('no reply'); process.exit(1); }, 3000);
s.on('message', (m, r) => { console.log('reply from ' + r.address + ' port ' + r.port + ': ' + m); clearTimeout(timer); s.close(); });
s.send(text, Number(port), host);`;
