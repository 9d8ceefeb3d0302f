// did:key of an Ed25519 public key for the Node-side test tools, written independently of
// clawjail: "did:key:z" + base58btc(0xed 0x01 || the 32-byte public key).
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(bytes) {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  while (n > 0n) { out = ALPHABET[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out; }
  return out;
}

// publicKey: a node:crypto KeyObject.
export function didKeyOf(publicKey) {
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return 'did:key:z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
}
