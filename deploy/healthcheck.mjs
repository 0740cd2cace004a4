// The images' HEALTHCHECK: GET a path on this container's own listener and exit
// 0 on a 2xx answer, 1 otherwise (4 s at most). Which port comes from the
// program's listen variable, as the program reads it.
//   node /opt/vigil/healthcheck.mjs VIGIL_CONSOLE_LISTEN :3000 /health/db
// Plain http, or https (self-signed allowed: it checks that the program answers,
// not who it is) when the program serves TLS (VIGIL_TLS_CERT).
import http from 'node:http';
import https from 'node:https';

const [variable, fallback, path = '/health'] = process.argv.slice(2);
if (!variable || !fallback) {
  process.stderr.write('usage: node healthcheck.mjs LISTEN_VARIABLE DEFAULT_ADDRESS [PATH]\n');
  process.exit(2);
}
const listen = process.env[variable] || fallback;
const colon = listen.lastIndexOf(':');
const port = Number(listen.slice(colon + 1));
let host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
// A wildcard listener answers on loopback.
if (host === '' || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
const tls = Boolean(process.env.VIGIL_TLS_CERT);
const request = (tls ? https : http).get(
  { host, port, path, timeout: 4000, rejectUnauthorized: false, headers: { 'user-agent': 'vigil-healthcheck' } },
  (res) => {
    res.resume();
    process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1);
  },
);
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (err) => {
  process.stderr.write(`healthcheck: ${host}:${port}${path}: ${err.message}\n`);
  process.exit(1);
});
