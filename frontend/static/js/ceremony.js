// The custody ceremony in the agency's browser: the tender's opening key is made, split and sealed here, and only
// the sealed shares and their commitments are sent, so the platform never sees the key.
//
//   makeCeremony(request) → {text, recipient}: the ceremony file for a custody request, from a fresh seed
//   makeCeremonyFromParts(request, seed, randomBytes) → the same from a given seed and SLIP-0039 randomness
//   recordCeremony(tenderId, text, csrfToken) → the custody the platform recorded (GET …/custody's answer)
//
// Byte for byte what crypto/custody.py split_opening_key and encode_ceremony make, so the platform and the
// offline command (`bidding custody ceremony`) read it alike: a 32-byte seed is an age post-quantum identity
// (AGE-SECRET-KEY-PQ-1…); SLIP-0039 splits it k of n (slip39.js); each custodian's share goes into a small JSON
// payload sealed with age to that custodian's registered recipient; the file lists, per custodian, the sealed
// share, its SHA-256, and the digest of the share's words, by which the share is recognised when handed in.
//
// On a page holding #custody-ceremony, the "Run the ceremony" button runs it for that tender and records it.
// Every refusal is a CeremonyError; its `code` picks the sentence the page shows, in the reader's language.

import { Encrypter, bech32, identityToRecipient, sha256 } from "../vendor/sealing-libs.js";
import { toBase64, toHex } from "./keys.js";
import { splitFromParts } from "./slip39.js";

const REQUEST_FORMAT = "bidding/custody-request/v1";
const CEREMONY_FORMAT = "bidding/custody-ceremony/v1";
const SHARE_FORMAT = "bidding/custody-share/v1";
const SHARE_DIGEST_LABEL = "bidding/custody-share-digest/v1\n";
const IDENTITY_PREFIX = "AGE-SECRET-KEY-PQ-";
const PQ_RECIPIENT = "age1pq1";
const SEED_SIZE = 32;
// SLIP-0039 allows at most 16 shares in a group (crypto/custody.py MAX_CUSTODIANS).
const MAX_CUSTODIANS = 16;

const utf8 = new TextEncoder();

export class CeremonyError extends Error {
  /** `code`: "missing-keys", "invalid-request", "refused" (by the platform) or "mismatch" (it recorded otherwise). */
  constructor(code, message) {
    super(message);
    this.name = "CeremonyError";
    this.code = code;
  }
}

// --- The formats of crypto/custody.py ------------------------------------------------------------------------

/** A JSON string as Python's json.dumps(ensure_ascii=False) writes it; the two agree on every well-formed one. */
function jsonString(text) {
  if (/\p{Cs}/u.test(text)) throw new CeremonyError("invalid-request", "text with a lone surrogate");
  return JSON.stringify(text);
}

/**
 * The payload sealed to a custodian, as split_opening_key_from_parts writes it: json.dumps with sort_keys=True
 * and the default separators (", " and ": "), keys in the order Python sorts them.
 */
function sharePayload(tender, custodian, member, share) {
  const fields = [
    ["custodian", jsonString(custodian)],
    ["format", jsonString(SHARE_FORMAT)],
    ["member", String(member)],
    ["share", jsonString(share)],
    ["tender", jsonString(tender)],
  ];
  return utf8.encode(`{${fields.map(([key, value]) => `"${key}": ${value}`).join(", ")}}`);
}

/** custody.share_digest: SHA-256 of a domain label and the words, single-spaced and in lower case. */
export function shareDigest(mnemonic) {
  return sha256(utf8.encode(SHARE_DIGEST_LABEL + mnemonic.trim().split(/\s+/).join(" ").toLowerCase()));
}

/** The custody request's tender, k and custodians, checked as the offline command and custody.py check them. */
function readRequest(request) {
  const { format, tender, threshold, custodians } = request ?? {};
  if (
    format !== REQUEST_FORMAT ||
    typeof tender !== "string" ||
    !Number.isInteger(threshold) ||
    !Array.isArray(custodians) ||
    !custodians.every((c) => typeof c?.login === "string" && (c.recipient === null || typeof c.recipient === "string"))
  ) {
    throw new CeremonyError("invalid-request", `not a custody request (${REQUEST_FORMAT})`);
  }
  const missing = custodians.filter((c) => !c.recipient).map((c) => c.login);
  if (missing.length) {
    throw new CeremonyError("missing-keys", `these custodians have registered no key yet: ${missing.join(", ")}`);
  }
  const count = custodians.length;
  if (!(count >= 1 && count <= MAX_CUSTODIANS)) {
    throw new CeremonyError("invalid-request", `a tender needs 1 to ${MAX_CUSTODIANS} custodians, not ${count}`);
  }
  if (!(threshold >= 1 && threshold <= count)) {
    throw new CeremonyError("invalid-request", `the threshold must be from 1 to ${count}, not ${threshold}`);
  }
  if (threshold === 1 && count > 1) {
    throw new CeremonyError("invalid-request", "SLIP-0039 makes no 1-of-n shares: the threshold must be 2 or more");
  }
  if (new Set(custodians.map((c) => c.login)).size !== count) {
    throw new CeremonyError("invalid-request", "each custodian may hold only one share");
  }
  for (const { login, recipient } of custodians) {
    if (!recipient.startsWith(PQ_RECIPIENT)) {
      throw new CeremonyError("invalid-request", `the recipient of ${login} is not post-quantum (${PQ_RECIPIENT}…)`);
    }
  }
  return { tender, threshold, custodians: custodians.map(({ login, recipient }) => ({ login, recipient })) };
}

async function seal(payload, recipient, login) {
  const encrypter = new Encrypter();
  try {
    encrypter.addRecipient(recipient);
  } catch {
    throw new CeremonyError("invalid-request", `the recipient of ${login} is not an age recipient`);
  }
  return encrypter.encrypt(payload);
}

// --- The ceremony ------------------------------------------------------------------------------------------------

/**
 * The ceremony for `request` (GET /api/v1/tenders/{id}/custody, parsed) with the opening identity of `seed` (32
 * bytes) and SLIP-0039 randomness from `randomBytes(length)`: tests pin both. The caller owns `seed` and
 * overwrites it afterwards; nothing returned holds it or a share in the clear.
 *
 * Returns {text, recipient, ceremony}: the ceremony file as encode_ceremony writes it (JSON, one-space indent),
 * the opening recipient (age1pq1…), and the file's content as an object.
 */
export async function makeCeremonyFromParts(request, seed, randomBytes) {
  const { tender, threshold, custodians } = readRequest(request);
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_SIZE) {
    throw new CeremonyError("invalid-request", `the opening seed must be ${SEED_SIZE} bytes`);
  }
  // The identity string is crypto.age.HybridIdentity(seed).encode(). JavaScript cannot overwrite a string; this
  // one lives only until identityToRecipient returns and the collector takes it.
  const recipient = await identityToRecipient(bech32.encodeFromBytes(IDENTITY_PREFIX, seed).toUpperCase());
  const mnemonics = await splitFromParts(seed, threshold, custodians.length, randomBytes);
  const shares = [];
  for (const [member, { login, recipient: custodianRecipient }] of custodians.entries()) {
    const payload = sharePayload(tender, login, member, mnemonics[member]);
    const sealed = await seal(payload, custodianRecipient, login);
    payload.fill(0);
    shares.push({
      custodian: login,
      member,
      sealed: toBase64(sealed),
      sealed_sha256: toHex(sha256(sealed)),
      share_sha256: toHex(shareDigest(mnemonics[member])),
    });
  }
  mnemonics.length = 0;
  const ceremony = { format: CEREMONY_FORMAT, tender, recipient, threshold, shares };
  return { text: JSON.stringify(ceremony, null, 1), recipient, ceremony };
}

/** {@link makeCeremonyFromParts} from a fresh seed, overwritten as soon as the shares are sealed. */
export async function makeCeremony(request) {
  const seed = crypto.getRandomValues(new Uint8Array(SEED_SIZE));
  try {
    return await makeCeremonyFromParts(request, seed, (length) => crypto.getRandomValues(new Uint8Array(length)));
  } finally {
    seed.fill(0);
  }
}

/** The sentences of a problem answer (RFC 9457): its detail, then what is wrong with each field. */
async function problemText(response) {
  try {
    const problem = await response.json();
    const parts = [problem.detail ?? problem.title, ...(problem.errors ?? []).map((error) => error.detail)];
    return parts.filter((part) => typeof part === "string" && part).join(" ");
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

/**
 * Hand the ceremony file `text` to the platform (PUT, with the session and its CSRF token) and return what it
 * recorded. Throws CeremonyError("refused") with the platform's reasons when it refuses the file.
 */
export async function recordCeremony(tenderId, text, csrfToken) {
  const response = await fetch(`/api/v1/tenders/${tenderId}/custody`, {
    method: "PUT",
    headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": csrfToken },
    body: text,
    credentials: "same-origin",
  });
  if (!response.ok) throw new CeremonyError("refused", await problemText(response));
  return response.json();
}

/** Check that the platform recorded the very recipient and commitments made here. */
function checkRecorded(recorded, ceremony) {
  const same =
    recorded.recipient === ceremony.recipient &&
    recorded.shares.length === ceremony.shares.length &&
    ceremony.shares.every((share, i) => {
      const kept = recorded.shares[i];
      return (
        kept.custodian === share.custodian &&
        kept.member === share.member &&
        kept.sealed_sha256 === share.sealed_sha256 &&
        kept.share_sha256 === share.share_sha256
      );
    });
  if (!same) throw new CeremonyError("mismatch", "the platform recorded something other than this ceremony");
}

// --- The page ------------------------------------------------------------------------------------------------

async function fetchRequest(tenderId) {
  const response = await fetch(`/api/v1/tenders/${tenderId}/custody`, {
    headers: { accept: "application/json" },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) throw new CeremonyError("refused", await problemText(response));
  return response.json();
}

function wire(root) {
  const words = root.dataset;
  const button = root.querySelector("button[data-run]");
  const status = root.querySelector("[data-status]");
  const csrfToken = root.querySelector('input[name="_csrf_token"]').value;
  const tenderId = words.tender;
  const say = (text, failed = false) => {
    status.textContent = text;
    status.classList.toggle("field-error", failed);
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      say(words.working);
      const made = await makeCeremony(await fetchRequest(tenderId));
      say(words.recording);
      checkRecorded(await recordCeremony(tenderId, made.text, csrfToken), made.ceremony);
      say(`${words.done} ${made.recipient}`);
      window.location.assign(`/tenders/${tenderId}/custody?done=recorded`);
    } catch (error) {
      const code = error instanceof CeremonyError ? error.code : "failed";
      const sentence = { "missing-keys": words.missingKeys, refused: words.refused, mismatch: words.mismatch }[code];
      say(code === "refused" ? `${sentence} ${error.message}` : (sentence ?? `${words.failed} ${error.message}`), true);
      button.disabled = false;
    }
  });
  root.hidden = false;
}

const root = globalThis.document?.getElementById("custody-ceremony");
if (root) wire(root);
