// The third-party code the sealing pages run, bundled by esbuild into frontend/static/vendor/sealing-libs.js
// (`npm run vendor`). Only what frontend/static/js/keys.js and envelope.js import is re-exported, so the bundle
// holds nothing else: age (typage) for the key file and the envelope, SHA-256 for the hashes the statement and
// the manifest name, Ed25519 for the signatures. The platform serves the committed bundle and never needs npm.

export { Encrypter, Decrypter, generateHybridIdentity, identityToRecipient, armor } from "age-encryption";
export { sha256 } from "@noble/hashes/sha2.js";
export { ed25519 } from "@noble/curves/ed25519.js";
