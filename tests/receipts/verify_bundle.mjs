// An independent verifier of clawjail proof bundles, written from docs/formats.md alone with nothing
// but Node's own crypto (Ed25519, SHA-256). It shares no code with the C++ verifier: when both
// accept a bundle, the format — not just the code's agreement with itself — is what verified.
//
//   node verify_bundle.mjs BUNDLE.json --trust did:key:…[,did:key:…] [--strict]
//
// Prints PASS (with the number of receipts and of calls interrupted by the supervisor's death) or
// FAIL <REASON_CODE> <detail> (the codes of the C++ verifier); exit 0 only on PASS. --strict fails
// interrupted calls (RECEIPT_INTERRUPTED_CALL).
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const RECEIPT_TYPE = 'application/vnd.clawjail.receipt.v1+json';
const BUNDLE_TYPE = 'application/vnd.clawjail.bundle.v1+json';

class Fail extends Error {
  constructor(code, detail) {
    super(`${code} ${detail}`);
    this.code = code;
    this.detail = detail;
  }
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const sha256b64u = (bytes) => b64u(createHash('sha256').update(bytes).digest());

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58btcDecode(text) {
  let n = 0n;
  for (const c of text) {
    const v = B58.indexOf(c);
    if (v < 0) throw new Error(`bad base58 character ${c}`);
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while (n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const c of text) {
    if (c !== '1') break;
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}

// did:key:z + base58btc(0xed 0x01 ‖ 32-byte Ed25519 public key)
function keyFromDid(did) {
  if (!did.startsWith('did:key:z')) throw new Error(`not a did:key: ${did}`);
  const raw = base58btcDecode(did.slice('did:key:z'.length));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error(`not an Ed25519 did:key: ${did}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(raw.subarray(2)) }, format: 'jwk' });
}

// "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in bytes.
function pae(type, payload) {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

// Returns the exact payload bytes when a trusted key signed the envelope.
function dsseVerify(env, type, trusted, codes) {
  if (typeof env !== 'object' || env === null || env.payloadType !== type || typeof env.payload !== 'string' ||
      !Array.isArray(env.signatures))
    throw new Fail(codes.malformed, `not a DSSE envelope of ${type}`);
  const payload = Buffer.from(env.payload, 'base64');
  if (payload.toString('base64') !== env.payload) throw new Fail(codes.malformed, 'payload is not canonical base64');
  const message = pae(type, payload);
  let claimedTrusted = false;
  for (const sig of env.signatures) {
    if (!trusted.includes(sig.keyid)) continue;
    claimedTrusted = true;
    const raw = Buffer.from(sig.sig, 'base64url');
    if (raw.length === 64 && verify(null, message, keyFromDid(sig.keyid), raw)) return payload;
  }
  if (claimedTrusted) throw new Fail(codes.badSignature, 'signature by a trusted key does not verify');
  throw new Fail(codes.untrusted, `signed by ${env.signatures.map((s) => s.keyid).join(',')}, none trusted`);
}

// RFC 8785 for the integers-only documents of docs/formats.md: keys sorted by UTF-16 code units
// (JavaScript's default sort), strings and numbers exactly as JSON.stringify writes them.
function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
}

function checkWpc(wpc) {
  if (typeof wpc !== 'object' || wpc === null || typeof wpc.payload !== 'object')
    throw new Fail('BUNDLE_WPC_INVALID', 'no WPC envelope');
  const { policy_hash: _ignored, ...hashed } = wpc.payload;
  const hash = sha256b64u(Buffer.from(jcs(hashed), 'utf8'));
  if (hash !== wpc.payload_hash_b64u) throw new Fail('BUNDLE_WPC_INVALID', 'payload_hash_b64u is not the JCS hash');
  const ok = verify(null, Buffer.from(wpc.payload_hash_b64u, 'utf8'), keyFromDid(wpc.signer_did),
                    Buffer.from(wpc.signature_b64u, 'base64url'));
  if (!ok) throw new Fail('BUNDLE_WPC_INVALID', 'WPC signature does not verify');
  return hash;
}

// docs/formats.md §4 and §4.1: a finished receipt's result says how the call ended; a call interrupted
// by the supervisor's death (status "interrupted", reason SUPERVISOR_RESTARTED, each only with
// the other) has every field it cannot know set to null.
const ENDING = ['exit_code', 'signal', 'duration_ms', 'stdout_hash_b64u', 'stdout_bytes', 'stderr_hash_b64u',
                'stderr_bytes', 'violations'];
const RAN_STATUSES = ['success', 'error', 'timeout', 'killed', 'limit'];
const endingTyped = (key, v) => key === 'violations' ? Array.isArray(v)
  : key.endsWith('_hash_b64u') ? typeof v === 'string' : Number.isInteger(v);

function checkResult(r, i) {
  const bad = (why) => new Fail('RECEIPT_PAYLOAD_INVALID', `receipt #${i}: ${why}`);
  const restarted = r.reason_code === 'SUPERVISOR_RESTARTED';
  if ((r.phase === 'finished') !== ('result' in r)) throw bad('result belongs to finished receipts only');
  if (r.phase !== 'finished') {
    if (restarted) throw bad('SUPERVISOR_RESTARTED on a receipt that is not finished');
    return;
  }
  const res = r.result;
  if (typeof res !== 'object' || res === null || typeof res.status !== 'string') throw bad('result has no status');
  const interrupted = res.status === 'interrupted';
  if (interrupted !== restarted) throw bad('status interrupted without SUPERVISOR_RESTARTED, or the reverse');
  if (!interrupted && !RAN_STATUSES.includes(res.status)) throw bad(`unknown status ${res.status}`);
  const optional = interrupted ? ['output_truncated'] : ['output_truncated', 'egress', 'error'];
  for (const key of Object.keys(res))
    if (key !== 'status' && !ENDING.includes(key) && !optional.includes(key)) throw bad(`result has field ${key}`);
  for (const key of ENDING) {
    if (!(key in res)) throw bad(`result lacks ${key}`);
    if (interrupted ? res[key] !== null : !endingTyped(key, res[key])) throw bad(`result.${key} is ${JSON.stringify(res[key])}`);
  }
  const truncated = res.output_truncated;
  if (truncated !== undefined && (interrupted ? truncated !== null : typeof truncated !== 'boolean'))
    throw bad('result.output_truncated has the wrong value');
}

function checkReceipts(bundle, trusted, policyHash) {
  const codes = { malformed: 'RECEIPT_PAYLOAD_INVALID', untrusted: 'RECEIPT_UNTRUSTED_KEY',
                  badSignature: 'RECEIPT_SIGNATURE_INVALID' };
  const receipts = [];
  let prevBytes = null;
  bundle.receipts.forEach((env, i) => {
    let bytes;
    try {
      bytes = dsseVerify(env, RECEIPT_TYPE, trusted, codes);
    } catch (e) {
      throw e instanceof Fail ? new Fail(e.code, `receipt #${i}: ${e.detail}`) : e;
    }
    const r = JSON.parse(bytes.toString('utf8'));
    checkResult(r, i);
    if (r.job_id !== bundle.job_id) throw new Fail('RECEIPT_JOB_MISMATCH', `receipt #${i} belongs to job ${r.job_id}`);
    if (r.seq !== i) {
      const seqs = bundle.receipts.map((e) => JSON.parse(Buffer.from(e.payload, 'base64')).seq).sort((a, b) => a - b);
      const permutation = seqs.every((s, k) => s === k);
      throw new Fail(permutation ? 'RECEIPT_OUT_OF_ORDER' : 'RECEIPT_SEQ_GAP', `receipt #${i} has seq ${r.seq}`);
    }
    const expectedPrev = prevBytes === null ? null : sha256b64u(prevBytes);
    if (r.prev_receipt_hash_b64u !== expectedPrev) throw new Fail('RECEIPT_CHAIN_BROKEN', `receipt #${i}`);
    // A blocked call whose WPC was never resolved (no hash, or a WPC_* refusal) names no job WPC.
    const unresolved = r.phase === 'blocked' && (r.policy_hash_b64u === null || r.reason_code.startsWith('WPC_'));
    if (!unresolved && r.policy_hash_b64u !== policyHash)
      throw new Fail('RECEIPT_POLICY_MISMATCH', `receipt #${i} names ${r.policy_hash_b64u}`);
    receipts.push(r);
    prevBytes = bytes;
  });
  return receipts;
}

function checkCalls(receipts, strict) {
  const state = new Map();
  const interrupted = [];
  for (const r of receipts) {
    const before = state.get(r.call_id);
    if (r.phase === 'finished' && before === 'blocked') throw new Fail('RECEIPT_BLOCKED_HAS_FINISHED', r.call_id);
    if (r.phase === 'finished' && before === undefined) throw new Fail('RECEIPT_FINISHED_WITHOUT_STARTED', r.call_id);
    if ((r.phase === 'finished' && before === 'finished') || (r.phase !== 'finished' && before !== undefined))
      throw new Fail('RECEIPT_DUPLICATE_CALL', r.call_id);
    if (r.phase === 'finished' && r.result.status === 'interrupted') interrupted.push(r.call_id);
    state.set(r.call_id, r.phase);
  }
  const unfinished = [...state].filter(([, phase]) => phase === 'started').map(([call]) => call);
  if (unfinished.length) throw new Fail('RECEIPT_UNFINISHED_CALL', `call ${unfinished.join(', ')} never finished`);
  if (strict && interrupted.length)
    throw new Fail('RECEIPT_INTERRUPTED_CALL', `call ${interrupted.join(', ')} interrupted by the supervisor's death`);
  return interrupted;
}

function verifyBundle(envelope, trusted, strict) {
  if (!trusted.length) throw new Fail('TRUST_REQUIRED', 'no --trust');
  const codes = { malformed: 'BUNDLE_MALFORMED', untrusted: 'BUNDLE_UNTRUSTED_KEY',
                  badSignature: 'BUNDLE_SIGNATURE_INVALID' };
  const bundle = JSON.parse(dsseVerify(envelope, BUNDLE_TYPE, trusted, codes).toString('utf8'));
  if (bundle.bundle_version !== '1' || !Array.isArray(bundle.receipts) || !bundle.receipts.length)
    throw new Fail('BUNDLE_MALFORMED', 'not a version 1 bundle with receipts');
  const policyHash = checkWpc(bundle.wpc);
  const interrupted = checkCalls(checkReceipts(bundle, trusted, policyHash), strict);
  return { receipts: bundle.receipts.length, interrupted: interrupted.length };
}

const args = process.argv.slice(2);
const at = args.indexOf('--trust');
const trusted = at >= 0 ? (args[at + 1] ?? '').split(',').filter(Boolean) : [];
const file = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
try {
  const n = verifyBundle(JSON.parse(readFileSync(file, 'utf8')), trusted, args.includes('--strict'));
  console.log(`PASS ${n.receipts} receipts, ${n.interrupted} interrupted`);
} catch (e) {
  console.log(e instanceof Fail ? `FAIL ${e.code} ${e.detail}` : `FAIL BUNDLE_MALFORMED ${e.message}`);
  process.exit(1);
}
