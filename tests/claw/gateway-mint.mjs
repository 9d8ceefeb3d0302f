// An independent maker of clawproxy gateway receipts (Node crypto, Claw's shapes: schema/poh
// gateway_receipt.v1, receipt_binding.v1; hashed and signed as clawproxy's generateReceiptEnvelope
// does: SHA-256 of JSON.stringify(payload), Ed25519 over that base64url string), for the model
// calls a real supervisor admitted, and the forgeries the import must refuse.
// usage: node gateway-mint.mjs DIR
//   reads  DIR/b1.json DIR/b2.json (clawjail model-call answers of the job), DIR/bother.json (of another job)
//   writes DIR/gateway.did, DIR/good1.json, DIR/forgeries.json (array), DIR/forgeries.expect (one reason
//          code per line, in array order), DIR/plugin-bundle.json (a provider-plugin proof bundle of its
//          own run, signed by an agent key, whose receipts are good2 and one bound to its own run)
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { didKeyOf } from '../js/did_key.mjs';

const dir = process.argv[2];
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const sha = (data) => b64u(crypto.createHash('sha256').update(data).digest());

function keypair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, did: didKeyOf(publicKey) };
}
function envelope(type, payload, key, issuedAt) {
  const hash = sha(JSON.stringify(payload));
  return {
    envelope_version: '1', envelope_type: type, payload, payload_hash_b64u: hash, hash_algorithm: 'SHA-256',
    signature_b64u: b64u(crypto.sign(null, Buffer.from(hash), key.privateKey)), algorithm: 'Ed25519',
    signer_did: key.did, issued_at: issuedAt,
  };
}
// clawproxy's payload, member for member in its order (services/clawproxy receipt.ts).
function receipt(key, binding, provider = 'anthropic', model = 'claude-sonnet-4') {
  const timestamp = new Date().toISOString();
  const payload = {
    receipt_version: '1', receipt_id: `rcpt_${crypto.randomUUID()}`, gateway_id: 'clawproxy-test', provider, model,
    request_hash_b64u: sha(crypto.randomBytes(32)), response_hash_b64u: sha(crypto.randomBytes(32)),
    tokens_input: 12, tokens_output: 34, latency_ms: 56, timestamp,
  };
  if (binding) payload.binding = binding;
  return envelope('gateway_receipt', payload, key, timestamp);
}
// What clawproxy puts in the binding from the headers the model call's answer names.
const bindingOf = (b) => {
  const out = { run_id: b.headers['X-Run-Id'], event_hash_b64u: b.headers['X-Event-Hash'], nonce: b.headers['X-Idempotency-Key'],
                policy_hash: b.headers['X-Policy-Hash'] };
  if (b.token_scope_hash_b64u) out.token_scope_hash_b64u = b.token_scope_hash_b64u;
  return out;
};

const gateway = keypair(), rogue = keypair(), agent = keypair();
const [b1, b2, bother] = ['b1.json', 'b2.json', 'bother.json'].map(read);
const good1 = receipt(gateway, bindingOf(b1));
const good2 = receipt(gateway, bindingOf(b2));
const tampered = structuredClone(good1);
tampered.payload.tokens_output = 99999;  // billed differently after signing
const forgeries = [
  ['unlisted signer', receipt(rogue, bindingOf(b1)), 'GATEWAY_SIGNER_NOT_ALLOWED'],
  ['another job', receipt(gateway, bindingOf(bother)), 'GATEWAY_RECEIPT_OTHER_JOB'],
  ['unbound', receipt(gateway, undefined), 'GATEWAY_RECEIPT_UNBOUND'],
  ['tampered after signing', tampered, 'GATEWAY_RECEIPT_INVALID'],
  ['bound to no model call (a made-up event)', receipt(gateway, { ...bindingOf(b1), event_hash_b64u: sha('no such event') }), 'GATEWAY_RECEIPT_UNBOUND'],
  ['another nonce', receipt(gateway, { ...bindingOf(b1), nonce: 'nonce_other' }), 'GATEWAY_RECEIPT_UNBOUND'],
  ['another WPC', receipt(gateway, { ...bindingOf(b1), policy_hash: sha('another policy') }), 'GATEWAY_RECEIPT_POLICY_MISMATCH'],
  ['no WPC hash', receipt(gateway, (({ policy_hash, ...rest }) => rest)(bindingOf(b1))), 'GATEWAY_RECEIPT_POLICY_MISMATCH'],
  ['a provider the WPC does not list', receipt(gateway, bindingOf(b1), 'openai', 'gpt-5'), 'MODEL_PROVIDER_NOT_ALLOWED'],
];
// good1 first: the second receipt for its call is a duplicate.
const list = [good1, ...forgeries.map((f) => f[1]), receipt(gateway, bindingOf(b1))];
const expect = ['OK', ...forgeries.map((f) => f[2]), 'GATEWAY_RECEIPT_DUPLICATE'];
const names = ['valid', ...forgeries.map((f) => f[0]), 'a second receipt for the same call'];

// Claw's provider plugin records a run of its own (recorder.ts): an llm_call event chain signed by
// the agent's key, with the gateway receipts it collected. One of them was bound through clawjail
// (good2); the other to the plugin's own run, which is not this job.
const runId = `run_${crypto.randomUUID()}`;
const ts = new Date().toISOString();
const header = { event_id: `evt_${crypto.randomUUID()}`, run_id: runId, event_type: 'llm_call', timestamp: ts,
                 payload_hash_b64u: sha(JSON.stringify({ provider: 'anthropic' })), prev_hash_b64u: null };
const event = { ...header, event_hash_b64u: sha(JSON.stringify(header)) };
const ownRun = receipt(gateway, { run_id: runId, event_hash_b64u: event.event_hash_b64u, nonce: `nonce_${crypto.randomUUID()}`,
                                  policy_hash: b1.policy_hash });
const plugin = envelope('proof_bundle', {
  bundle_version: '1', bundle_id: `bundle_${crypto.randomUUID()}`, agent_did: agent.did, event_chain: [event],
  receipts: [good2, ownRun],
}, agent, ts);

fs.writeFileSync(path.join(dir, 'gateway.did'), gateway.did + '\n');
fs.writeFileSync(path.join(dir, 'good1.json'), JSON.stringify(good1));
fs.writeFileSync(path.join(dir, 'forgeries.json'), JSON.stringify(list));
fs.writeFileSync(path.join(dir, 'forgeries.expect'), expect.map((c, i) => `${i}\t${c}\t${names[i]}`).join('\n') + '\n');
fs.writeFileSync(path.join(dir, 'plugin-bundle.json'), JSON.stringify(plugin));
