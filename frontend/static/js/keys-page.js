// The keys page: make a key file in this browser, offer it as a download, then register its public halves.
//
// The key file (keys.js makeKeyFile) is made here and saved by the person; it is never sent. Registering sends
// only the recipient and the verifier key to POST /api/v1/keys. The register button waits until the file was
// saved: a key registered without its file would retire the old key and leave nothing to sign or open with.

import { makeKeyFile } from "./keys.js";
import { ProblemError, callApi, clearProblem, download, fill, showMessage, showProblem, wordsOf } from "./page-api.js";

const MIN_PASSPHRASE_BYTES = 10;
// What keys.js refuses in a key name (Python's whitespace, "+", control characters, lone surrogates).
const BAD_NAME = /[\x00-\x20\x85+\p{Zs}\p{Zl}\p{Zp}\p{Cs}]/u;

const form = document.querySelector("form[data-key-form]");
const words = wordsOf("keys-words");
const status = document.getElementById("make-key-status");
const errorBox = document.getElementById("make-key-error");
const made = document.getElementById("key-made");
const link = document.getElementById("key-file-link");
const registerButton = document.getElementById("register-key");
const purposeField = document.getElementById("key-purpose");
const nameField = document.getElementById("key-name");
const utf8 = new TextEncoder();

/** The public halves waiting to be registered, and what for. */
let pending = null;

function defaultName() {
  const chosen = purposeField.tagName === "SELECT" ? purposeField.selectedOptions[0] : purposeField;
  return chosen.dataset.defaultName;
}

function fail(text) {
  status.textContent = "";
  showMessage(errorBox, text);
}

async function make(event) {
  event.preventDefault();
  clearProblem(errorBox);
  const name = nameField.value.trim();
  const passphrase = form.elements.passphrase.value;
  if (!name || BAD_NAME.test(name)) return fail(words.badName);
  if (utf8.encode(passphrase).length < MIN_PASSPHRASE_BYTES) return fail(words.short);
  if (passphrase !== form.elements.passphrase_again.value) return fail(words.differ);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  status.textContent = words.making;
  let keys;
  try {
    keys = await makeKeyFile(name, passphrase);
  } catch (error) {
    return fail(fill(words.failed, { reason: error.message }));
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
  form.elements.passphrase.value = "";
  form.elements.passphrase_again.value = "";
  pending = { purpose: purposeField.value, verifier_key: keys.verifierKey, recipient: keys.recipient };
  download(link, keys.text, `${name}.key`);
  document.getElementById("made-recipient").textContent = keys.recipient;
  document.getElementById("made-verifier-key").textContent = keys.verifierKey;
  registerButton.disabled = true;
  made.hidden = false;
  status.textContent = words.made;
  link.focus();
}

async function register() {
  if (!pending) return;
  clearProblem(errorBox);
  registerButton.disabled = true;
  status.textContent = words.registering;
  try {
    await callApi("/api/v1/keys", { method: "POST", csrf: form.dataset.csrf, json: pending });
  } catch (error) {
    registerButton.disabled = false;
    status.textContent = "";
    if (error instanceof ProblemError) showProblem(errorBox, error.problem);
    else fail(words.unreachable);
    return;
  }
  pending = null;
  location.assign("/keys?done=registered#registered-keys");
}

let suggested = defaultName();
purposeField.addEventListener("change", () => {
  // Follow the purpose with the suggested name, unless the person wrote a name of their own.
  if (nameField.value.trim() === suggested) nameField.value = defaultName();
  suggested = defaultName();
});
form.addEventListener("submit", make);
link.addEventListener("click", () => {
  registerButton.disabled = pending === null;
});
registerButton.addEventListener("click", register);
form.hidden = false;
