// A local stand-in for Claw's control plane, for the fleet tests (docs/operations.md "Fleet"):
// clawcontrols' WPC registry and clawscope's JWKS and revocation events, in their answer shapes,
// on 127.0.0.1. It can be told to misbehave.
//
//   node control_plane.mjs [--port N] [--feed-token TOKEN]
//
// On start it prints one JSON line, {"port": N}. It then reads commands on stdin, one JSON object
// a line, and answers each with one JSON line on stdout:
//   {"cmd":"publish_wpc","envelope":{…}[,"as":"<hash>"]}   serve it at /v1/wpc/<as or its payload_hash_b64u>
//   {"cmd":"set_jwks","keys":[{kty,crv,x,kid,…}]}          replace the JWKS
//   {"cmd":"revoke","token_hash":"<hex sha256>"[,"jti":…]} append a revocation event
//   {"cmd":"misbehave","path":"/v1/jwks","mode":"slow|truncated|500|huge|garbage|ok"[,"ms":N]}
//   {"cmd":"stats"}                                        requests served by path prefix, the last URLs
// Endpoints (as clawcontrols / clawscope answer them):
//   GET /v1/wpc/<policy_hash_b64u> -> {ok:true, policy_hash_b64u, envelope} | 404 {ok:false,error:{code:"WPC_NOT_FOUND"}}
//   GET /v1/jwks                   -> {keys:[{kty:"OKP",crv:"Ed25519",x,kid,alg:"EdDSA",use:"sig"}]}
//   GET /v1/revocations/events?cursor=C&limit=L  (Authorization: Bearer <feed token>, else 401)
//                                  -> {events:[{key, record:{token_hash, revoked_at, revoked_at_iso, reason}}], cursor, list_complete}
// Events are kept in the order they were revoked and the cursor is the offset of the next one, so
// a reader that keeps its cursor reads each event once.
import http from 'node:http';
import readline from 'node:readline';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const feedToken = opt('--feed-token', 'feed-secret');

const wpcs = new Map();
let jwks = [];
const events = [];
const modes = new Map();  // path prefix -> {mode, ms}
const stats = {};
const queries = [];  // the last request URLs, newest last

function modeFor(path) {
  for (const [prefix, m] of modes) if (path.startsWith(prefix)) return m;
  return { mode: 'ok' };
}

function send(res, status, body, m) {
  const text = JSON.stringify(body);
  if (m.mode === '500') {
    res.writeHead(500, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: 'told to fail' } }));
  }
  if (m.mode === 'garbage') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"keys": [ this is not json');
  }
  if (m.mode === 'huge') {
    const size = m.bytes ?? 8 * 1024 * 1024;
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"pad":"' + 'x'.repeat(size) + '"}');
  }
  if (m.mode === 'truncated') {
    // Promises the whole body and sends half of it.
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(text.length) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
    return setTimeout(() => res.socket.destroy(), 50);
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

function route(req, url) {
  const path = url.pathname;
  if (req.method !== 'GET') return [405, { ok: false, error: { code: 'METHOD_NOT_ALLOWED' } }];
  if (path.startsWith('/v1/wpc/')) {
    const hash = path.slice('/v1/wpc/'.length);
    const envelope = wpcs.get(hash);
    if (!envelope) return [404, { ok: false, error: { code: 'WPC_NOT_FOUND', message: 'WPC not found' } }];
    return [200, { ok: true, policy_hash_b64u: hash, envelope }];
  }
  if (path === '/v1/jwks') return [200, { keys: jwks }];
  if (path === '/v1/revocations/events') {
    if (req.headers.authorization !== `Bearer ${feedToken}`)
      return [401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'protected endpoint' } }];
    const limit = Math.min(Math.max(parseInt(url.searchParams.get('limit') ?? '50', 10) || 50, 1), 200);
    const from = parseInt(url.searchParams.get('cursor') ?? '0', 10) || 0;
    const page = events.slice(from, from + limit);
    const next = from + page.length;
    return [200, { events: page, cursor: String(next), list_complete: next >= events.length }];
  }
  return [404, { ok: false, error: { code: 'NOT_FOUND' } }];
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const prefix = url.pathname.split('/').slice(0, 3).join('/');
  stats[prefix] = (stats[prefix] ?? 0) + 1;
  queries.push(req.url);
  if (queries.length > 50) queries.shift();
  const m = modeFor(url.pathname);
  const [status, body] = route(req, url);
  if (m.mode === 'slow') return setTimeout(() => send(res, status, body, { mode: 'ok' }), m.ms ?? 30000);
  send(res, status, body, m);
});

function command(c) {
  switch (c.cmd) {
    case 'publish_wpc':
      wpcs.set(c.as ?? c.envelope.payload_hash_b64u, c.envelope);
      return { ok: true };
    case 'set_jwks':
      jwks = c.keys;
      return { ok: true };
    case 'revoke': {
      const now = Math.floor(Date.now() / 1000);
      const invTs = String(9_999_999_999 - now).padStart(10, '0');
      const record = { token_hash: c.token_hash, revoked_at: now, revoked_at_iso: new Date().toISOString(), reason: c.reason ?? 'revoked at the issuer' };
      if (c.jti) record.jti = c.jti;
      events.push({ key: `events:revocations:${invTs}:${c.token_hash}`, record });
      return { ok: true, at_ms: Date.now() };
    }
    case 'misbehave':
      if (c.mode === 'ok') modes.delete(c.path);
      else modes.set(c.path, { mode: c.mode, ms: c.ms, bytes: c.bytes });
      return { ok: true };
    case 'stats':
      return { ok: true, stats, queries };
    default:
      return { ok: false, error: `unknown command ${c.cmd}` };
  }
}

server.listen(parseInt(opt('--port', '0'), 10), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let answer;
  try {
    answer = command(JSON.parse(line));
  } catch (e) {
    answer = { ok: false, error: String(e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
rl.on('close', () => process.exit(0));  // the test that started it is gone
