// The third-party code the sealing pages run, bundled by esbuild into frontend/static/vendor/sealing-libs.js
// (`npm run vendor`). Only what frontend/static/js/keys.js, envelope.js and ceremony.js import is re-exported, so
// the bundle holds nothing else: age (typage) for the key file, the envelope and the sealed custody shares, SHA-256
// for the hashes the statement, the manifest and the ceremony name, Ed25519 for the signatures, and Bech32 for the
// opening identity the ceremony makes from its seed (typage's own encoder, already inside age). The platform serves
// the committed bundle and never needs npm.

export { Encrypter, Decrypter, generateHybridIdentity, identityToRecipient, armor } from "age-encryption";
export { sha256 } from "@noble/hashes/sha2.js";
export { ed25519 } from "@noble/curves/ed25519.js";
export { bech32 } from "@scure/base";
