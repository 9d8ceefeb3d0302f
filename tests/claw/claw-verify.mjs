// Runs Claw Bureau's own verifier (clawverify-core's verifyProofBundle) on proof bundle files.
// usage: node claw-verify.mjs DIST_DIR ALLOWLISTED_DID[,DID…] FILE…
// Prints one JSON line per file: {file, status, proof_tier, trust_tier, code, reason}.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, dids, ...files] = process.argv.slice(2);
const { verifyProofBundle } = await import(pathToFileURL(path.join(dist, 'dist', 'index.js')).href);
for (const file of files) {
  const envelope = JSON.parse(fs.readFileSync(file, 'utf8'));
  const { result, error } = await verifyProofBundle(envelope, {
    allowlistedReceiptSignerDids: dids ? dids.split(',') : [],
  });
  console.log(JSON.stringify({
    file: path.basename(file), status: result.status, proof_tier: result.proof_tier ?? null,
    trust_tier: result.trust_tier ?? null, code: error?.code ?? null, reason: result.reason,
  }));
}
