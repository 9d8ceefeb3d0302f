// Tampers with a Claw-form bundle as an attacker would, with Node's own crypto only.
// usage: node claw-tamper.mjs KIND IN OUT [RESIGN_KEY_FILE] [OTHER_BUNDLE]
//   RESIGN_KEY_FILE (a clawjail key file): re-sign the tampered payload with that key, as a holder
//   of that key would; without it the signature is left as it was (hash recomputed or not: see KIND).
// KIND: flip_receipt | drop_event | reorder_events | other_job_receipt
//       | wrong_signer_claimed (another key signs and the bundle names it as signer and agent)
//       | wrong_signer_key (another key signs; the bundle still names the supervisor)
import crypto from 'node:crypto';
import fs from 'node:fs';
import { didKeyOf } from '../js/did_key.mjs';

const [kind, input, output, keyFile, otherFile] = process.argv.slice(2);
const env = JSON.parse(fs.readFileSync(input, 'utf8'));
const p = env.payload;
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const hash = (value) => b64u(crypto.createHash('sha256').update(JSON.stringify(value)).digest());

function loadKey(file) {  // clawjail-ed25519-seed-v1 \n <seed, base64url>
  const seed = Buffer.from(fs.readFileSync(file, 'utf8').split('\n')[1].trim(), 'base64url');
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { key, did: didKeyOf(crypto.createPublicKey(key)) };
}

const flip = (s) => s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
switch (kind) {
  case 'flip_receipt': {  // one byte of the first tool receipt that ends a blocked call, else the first
    const t = p.tool_receipts.find((r) => r.payload.result_status === 'error') ?? p.tool_receipts[0];
    t.payload.result_hash_b64u = flip(t.payload.result_hash_b64u);
    break;
  }
  case 'drop_event': p.event_chain.splice(1, 1); break;
  case 'reorder_events': [p.event_chain[1], p.event_chain[2]] = [p.event_chain[2], p.event_chain[1]]; break;
  case 'other_job_receipt': {
    const other = JSON.parse(fs.readFileSync(otherFile, 'utf8'));
    p.tool_receipts[0] = other.payload.tool_receipts[0];
    break;
  }
  case 'wrong_signer_claimed': case 'wrong_signer_key': break;  // the key that signs changes
  default: throw new Error('unknown tamper ' + kind);
}
if (keyFile) {
  const { key, did } = loadKey(keyFile);
  if (kind === 'wrong_signer_claimed') { p.agent_did = did; env.signer_did = did; }
  env.payload_hash_b64u = hash(p);
  env.signature_b64u = b64u(crypto.sign(null, Buffer.from(env.payload_hash_b64u), key));
}
fs.writeFileSync(output, JSON.stringify(env, null, 2) + '\n');
