// Mints CSTs with `jose` (an implementation independent of clawjail) for jose_interop.sh.
// usage: node mint.mjs OUTDIR POLICY_HASH OTHER_POLICY_HASH
// Writes OUTDIR/issuer.did and one OUTDIR/<case>.jwt per case.
import { SignJWT, UnsecuredJWT } from 'jose';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { didKeyOf } from './did_key.mjs';

const [outDir, policyHash, otherPolicyHash] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);

// RFC 8785 for strings, integers, arrays and objects: JSON.stringify is already JCS for these
// once keys are sorted by UTF-16 code units (Array.prototype.sort's default order).
function jcs(v) {
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  if (v && typeof v === 'object') return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
function scopeHash(c) {
  const norm = a => [...new Set((Array.isArray(a) ? a : [a]).map(s => s.trim()).filter(Boolean))].sort();
  const basis = { token_version: '1', sub: c.sub.trim(), aud: norm(c.aud), scope: norm(c.scope) };
  for (const k of ['policy_hash_b64u', 'mission_id', 'agent_did']) if (k in c) basis[k] = c[k].trim();
  return createHash('sha256').update(jcs(basis)).digest('base64url');
}

const issuer = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
writeFileSync(`${outDir}/issuer.did`, didKeyOf(issuer.publicKey) + '\n');

function claims(over = {}, drop = []) {
  const c = { token_version: '1', sub: 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw', aud: ['clawjail'],
              scope: ['clawjail:call'], iat: now - 5, exp: now + 600, jti: randomUUID(), nonce: randomUUID(),
              mission_id: 'job-1', policy_hash_b64u: policyHash, ...over };
  for (const k of drop) delete c[k];
  if (!('token_scope_hash_b64u' in over)) c.token_scope_hash_b64u = scopeHash(c);
  return c;
}
const sign = (c, key = issuer.privateKey, kid = 'jose-1') =>
  new SignJWT(c).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(key);

const cases = {
  good: await sign(claims()),
  good_string_aud: await sign(claims({ aud: 'clawjail' })),
  replay: await sign(claims({ jti: 'jti-replayed' }, ['mission_id', 'policy_hash_b64u'])),
  revoked: await sign(claims({ jti: 'jti-revoked' })),
  none: new UnsecuredJWT(claims()).encode(),
  hs256: await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'jose-1' })
    .sign(Buffer.from(issuer.publicKey.export({ format: 'jwk' }).x, 'base64url')),
  other_key: await sign(claims(), stranger.privateKey),
  unknown_kid: await sign(claims(), issuer.privateKey, 'jose-2'),
  wrong_aud: await sign(claims({ aud: ['clawproxy'] })),
  expired: await sign(claims({ iat: now - 700, exp: now - 100 })),
  mission_mismatch: await sign(claims({ mission_id: 'job-2' })),
  wrong_policy: await sign(claims({ policy_hash_b64u: otherPolicyHash })),
  wrong_scope_hash: await sign(claims({ token_scope_hash_b64u: createHash('sha256').update('x').digest('base64url') })),
};
const good = cases.good.split('.');
const widened = Buffer.from(JSON.stringify({ ...claims(), scope: ['*'] })).toString('base64url');
cases.tampered = [good[0], widened, good[2]].join('.');
for (const [name, token] of Object.entries(cases)) writeFileSync(`${outDir}/${name}.jwt`, token + '\n');
