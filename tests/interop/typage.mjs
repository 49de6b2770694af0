// A command around typage (npm age-encryption), the reference TypeScript age implementation, so that the
// test suite can check files in both directions:
//   node typage.mjs keygen pq|x25519          prints an identity, then its recipient
//   node typage.mjs encrypt RECIPIENT...      stdin -> stdout
//   node typage.mjs decrypt IDENTITY...       stdin -> stdout
import { readFileSync, writeSync } from "node:fs";
import { Decrypter, Encrypter, generateHybridIdentity, generateX25519Identity, identityToRecipient } from "age-encryption";

const [command, ...keys] = process.argv.slice(2);

function write(bytes) {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(1, bytes, offset);
}

if (command === "keygen") {
  const identity = keys[0] === "pq" ? await generateHybridIdentity() : await generateX25519Identity();
  console.log(identity);
  console.log(await identityToRecipient(identity));
} else if (command === "encrypt") {
  const encrypter = new Encrypter();
  for (const recipient of keys) encrypter.addRecipient(recipient);
  write(await encrypter.encrypt(new Uint8Array(readFileSync(0))));
} else if (command === "decrypt") {
  const decrypter = new Decrypter();
  for (const identity of keys) decrypter.addIdentity(identity);
  write(await decrypter.decrypt(new Uint8Array(readFileSync(0))));
} else {
  console.error("usage: typage.mjs keygen|encrypt|decrypt ...");
  process.exit(2);
}
