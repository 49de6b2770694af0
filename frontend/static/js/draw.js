// A supervisor's contribution to an expert draw, made in this browser (committee page, experts/committee.html).
//
// <form data-draw-commit data-draw="ID" data-digest="HEX" data-party="supervisor">: draws a 32-byte secret with
// crypto.getRandomValues, keeps it in localStorage under the draw's id, and posts only its commitment, computed as
// crypto/draw.py contribution_commitment does:
//   SHA-256(field("bidding/draw/v1") || field("contribution") || field(digest) || field(party) || field(secret))
// with field(b) the 4-byte big-endian length of b, then b, and digest the last link of the draw's commitment.
// <form data-draw-reveal data-draw="ID">: posts the secret kept for that draw.
//
// A secret already kept for the draw is used again rather than replaced: a commitment that did not reach the
// server is then made again for the same secret. Without this script (or WebCrypto) the buttons stay hidden and
// the forms beside them take a commitment or a secret made with `bidding draw contribute`.

import { concat } from "./bytes.js";

const encoder = new TextEncoder();

function field(bytes) {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error("not hexadecimal");
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** The commitment of `party` to `secret` for the draw whose commitment's digest is `digestHex`, as hex. */
export async function contributionCommitment(digestHex, party, secret) {
  const data = concat(
    field(encoder.encode("bidding/draw/v1")),
    field(encoder.encode("contribution")),
    field(fromHex(digestHex)),
    field(encoder.encode(party)),
    field(secret),
  );
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

const storageKey = (drawId) => `bidding.draw.${drawId}.secret`;

function keptSecret(drawId) {
  try {
    const kept = localStorage.getItem(storageKey(drawId));
    return kept && /^[0-9a-f]{64}$/.test(kept) ? kept : null;
  } catch {
    return null;
  }
}

const supported = typeof crypto !== "undefined" && crypto.subtle && typeof localStorage !== "undefined";

for (const form of document.querySelectorAll("form[data-draw-commit]")) {
  const button = form.querySelector("button");
  const status = form.querySelector("[data-draw-status]");
  if (!supported) {
    status.textContent = form.dataset.unsupported;
    continue;
  }
  button.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const drawId = form.dataset.draw;
    let secret = keptSecret(drawId);
    if (secret === null) {
      secret = toHex(crypto.getRandomValues(new Uint8Array(32)));
      localStorage.setItem(storageKey(drawId), secret);
    }
    form.elements.commitment.value = await contributionCommitment(form.dataset.digest, form.dataset.party, fromHex(secret));
    form.submit();
  });
}

for (const form of document.querySelectorAll("form[data-draw-reveal]")) {
  const button = form.querySelector("button");
  const status = form.querySelector("[data-draw-status]");
  const secret = keptSecret(form.dataset.draw);
  if (secret === null) {
    status.textContent = form.dataset.missing;
    continue;
  }
  button.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    form.elements.secret.value = secret;
    form.submit();
  });
}
