// A person's key file, made and opened in the browser, and signed notes made with its signing key.
//
// The same formats as crypto/keyfile.py and crypto/note.py, byte for byte: a key file made here opens with
// `bidding` and `age -d`, and one made there opens here. Inside the passphrase-sealed age file is an age identity
// file: the post-quantum identity on its own line, the public halves and the Ed25519 signing key in `#` comment
// lines. Only the public halves (recipient, verifier key) may ever leave the browser.
//
//   makeKeyFile(name, passphrase) → {text, recipient, verifierKey}
//   openKeyFile(text, passphrase) → {name, identity, recipient, signingSeed, verifierKey}
//   signNote(text, name, seed) → the signed note, a string
//   verifierKey(name, seed) → the verifier key line of a signing seed
//   toHex(bytes), toBase64(bytes) → the encodings the formats use, for envelope.js and pages
//
// Every refusal is a KeyFileError; its message is for people, and never holds key material.

import {
  Decrypter,
  Encrypter,
  armor,
  ed25519,
  generateHybridIdentity,
  identityToRecipient,
  sha256,
} from "../vendor/sealing-libs.js";
import { concat } from "./bytes.js";

const HEADER = "# bidding key file v1";
const SIGNING_PREFIX = "# signing key (secret): ";
const SIGNER_PREFIX = "PRIVATE+KEY+";
const IDENTITY_PREFIX = "AGE-SECRET-KEY-PQ-1";
// crypto/keyfile.py counts the passphrase in UTF-8 bytes, as scrypt reads it; so does this.
const MIN_PASSPHRASE_BYTES = 10;
// Signature type of plain Ed25519 note signatures (C2SP signed-note).
const ED25519 = 0x01;
const SEED_SIZE = 32;
const EM_DASH = "\u2014";

const utf8 = new TextEncoder();

export class KeyFileError extends Error {
  constructor(message) {
    super(message);
    this.name = "KeyFileError";
  }
}

// --- Encodings ------------------------------------------------------------------------------------------------

export function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function toBase64(bytes) {
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

/** Strict base64, as crypto/note.py reads it: padded, nothing stray, in its one canonical form; else null. */
function fromBase64(text) {
  let binary;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
  return toBase64(bytes) === text ? bytes : null;
}

// --- Signed notes (C2SP signed-note) ---------------------------------------------------------------------------

// Python's str.isspace() and the Unicode separators, "+", control characters, and lone surrogates (which have
// no UTF-8 form): what check_key_name refuses, and what a name cannot hold.
const BAD_NAME_CHARACTER = /[\x00-\x20\x85+\p{Zs}\p{Zl}\p{Zp}\p{Cs}]/u;

function checkKeyName(name) {
  if (typeof name !== "string" || name === "" || BAD_NAME_CHARACTER.test(name)) {
    throw new KeyFileError("a key name must be non-empty, without spaces, plus signs or control characters");
  }
}

function checkSeed(seed) {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_SIZE) {
    throw new KeyFileError("an Ed25519 signing seed is 32 bytes");
  }
}

/** The 4-byte key ID: SHA-256(name || "\n" || type || public key), first four bytes. */
function keyId(name, publicKey) {
  return sha256(concat(utf8.encode(`${name}\n`), Uint8Array.of(ED25519), publicKey)).subarray(0, 4);
}

/** The verifier key line of the Ed25519 key whose seed is `seed`: `<name>+<hex key ID>+base64(0x01 || public key)`. */
export function verifierKey(name, seed) {
  checkKeyName(name);
  checkSeed(seed);
  const publicKey = ed25519.getPublicKey(seed);
  return `${name}+${toHex(keyId(name, publicKey))}+${toBase64(concat(Uint8Array.of(ED25519), publicKey))}`;
}

/** The secret signer key line: `PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || seed)`, as Go's note package. */
function signerKey(name, seed) {
  const id = keyId(name, ed25519.getPublicKey(seed));
  return `${SIGNER_PREFIX}${name}+${toHex(id)}+${toBase64(concat(Uint8Array.of(ED25519), seed))}`;
}

/** The name and seed of a signer key line, or null unless it is a well-formed Ed25519 key whose ID is its own. */
function parseSignerKey(line) {
  if (!line.startsWith(SIGNER_PREFIX)) return null;
  const match = /^([^+]*)\+([0-9a-fA-F]{8})\+(.*)$/s.exec(line.slice(SIGNER_PREFIX.length));
  if (!match) return null;
  const [, name, hexId, encoded] = match;
  const material = fromBase64(encoded);
  if (!material || material.length !== 1 + SEED_SIZE || material[0] !== ED25519) return null;
  try {
    checkKeyName(name);
  } catch {
    return null;
  }
  const seed = material.slice(1);
  if (toHex(keyId(name, ed25519.getPublicKey(seed))) !== hexId.toLowerCase()) return null;
  return { name, seed };
}

/**
 * The note `text` signed with the Ed25519 key `seed` named `name`: the text, a blank line, and the line
 * "— <name> base64(key ID || signature)". Ed25519 is deterministic, so this is byte for byte what
 * crypto/note.py sign_note makes with the same key. The text must end with a newline and hold no other control
 * characters.
 */
export function signNote(text, name, seed) {
  checkKeyName(name);
  checkSeed(seed);
  if (typeof text !== "string" || !text.endsWith("\n") || /[\x00-\x09\x0b-\x1f]|\p{Cs}/u.test(text)) {
    throw new KeyFileError("a note text ends with a newline and has no other control characters");
  }
  const signature = ed25519.sign(utf8.encode(text), seed);
  const id = keyId(name, ed25519.getPublicKey(seed));
  return `${text}\n${EM_DASH} ${name} ${toBase64(concat(id, signature))}\n`;
}

// --- Key files -------------------------------------------------------------------------------------------------

function keyFileText(name, identity, recipient, seed) {
  return (
    `${HEADER}\n# name: ${name}\n# recipient: ${recipient}\n# verifier key: ${verifierKey(name, seed)}\n` +
    `${SIGNING_PREFIX}${signerKey(name, seed)}\n${identity}\n`
  );
}

/**
 * Fresh keys for `name`, sealed with `passphrase` (scrypt, age's default work factor) and armored.
 *
 * Returns {text, recipient, verifierKey}: the key file for the person to save, and the public halves to register.
 * Refuses a passphrase under 10 bytes and a name that cannot name a signature key.
 */
export async function makeKeyFile(name, passphrase) {
  checkKeyName(name);
  if (typeof passphrase !== "string" || utf8.encode(passphrase).length < MIN_PASSPHRASE_BYTES) {
    throw new KeyFileError("a key file passphrase needs at least 10 characters");
  }
  const identity = await generateHybridIdentity();
  const recipient = await identityToRecipient(identity);
  const seed = crypto.getRandomValues(new Uint8Array(SEED_SIZE));
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  const sealed = await encrypter.encrypt(keyFileText(name, identity, recipient, seed));
  return { text: armor.encode(sealed), recipient, verifierKey: verifierKey(name, seed) };
}

/** Python's str.splitlines(): the line boundaries it knows, and no empty last line after a final one. */
function splitLines(text) {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** The keys in a decrypted key file, as crypto/keyfile.py parse_key_file_text reads them. */
async function parseKeyFileText(text) {
  const lines = splitLines(text);
  if (lines[0] !== HEADER) throw new KeyFileError("not a key file");
  const signing = lines.filter((line) => line.startsWith(SIGNING_PREFIX));
  const identities = lines.filter((line) => line !== "" && !line.startsWith("#"));
  if (signing.length !== 1 || identities.length !== 1) throw new KeyFileError("not a key file");
  const signer = parseSignerKey(signing[0].slice(SIGNING_PREFIX.length));
  const identity = identities[0];
  let recipient;
  try {
    // identityToRecipient decodes the Bech32 and checks the prefix and length.
    recipient = identity.startsWith(IDENTITY_PREFIX) ? await identityToRecipient(identity) : null;
  } catch {
    recipient = null;
  }
  if (!signer || !recipient) throw new KeyFileError("not a key file");
  return {
    name: signer.name,
    identity,
    recipient,
    signingSeed: signer.seed,
    verifierKey: verifierKey(signer.name, signer.seed),
  };
}

/**
 * The keys in a key file: {name, identity, recipient, signingSeed, verifierKey}.
 *
 * `text` is the file as saved (armored), or its bytes. Throws KeyFileError("wrong passphrase") when the file is
 * sealed with a passphrase and this is not it, and KeyFileError("not a key file") for anything else.
 */
export async function openKeyFile(text, passphrase) {
  let sealed;
  try {
    sealed = typeof text === "string" ? armor.decode(text) : binaryOrArmored(text);
  } catch {
    throw new KeyFileError("not a key file");
  }
  // Identities are tried in order: this one is asked only when the passphrase opened no stanza, so a failure
  // after it was asked about a scrypt stanza is a wrong passphrase, and any other failure a damaged file.
  let passphraseFailed = false;
  const witness = {
    unwrapFileKey(stanzas) {
      passphraseFailed = stanzas.some((stanza) => stanza.args[0] === "scrypt");
      return null;
    },
  };
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  decrypter.addIdentity(witness);
  let plaintext;
  try {
    plaintext = new TextDecoder("utf-8", { fatal: true }).decode(await decrypter.decrypt(sealed));
  } catch {
    throw new KeyFileError(passphraseFailed ? "wrong passphrase" : "not a key file");
  }
  return parseKeyFileText(plaintext);
}

function binaryOrArmored(bytes) {
  // An armored file starts with its marker or whitespace; a binary one with "age-encryption.org/v1".
  const armored = bytes.length > 0 && "- \t\r\n".includes(String.fromCharCode(bytes[0]));
  return armored ? armor.decode(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) : bytes;
}
