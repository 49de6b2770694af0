// The bid page: seal a bid in this browser, upload the envelope with tus, submit its signed statement, and offer
// the receipt and the private record as downloads; withdraw a sealed bid.
//
// The steps, each with its progress shown:
//   1. openKeyFile: the organisation's key file, with its passphrase, checked against the registered key;
//   2. sealEnvelope into the Origin Private File System (saveToOpfs): the documents never sit whole in memory;
//   3. tus 1.0 upload of that file (readFromOpfs): POST creates it, PATCH sends 8 MiB chunks each with its
//      SHA-256 (Upload-Checksum), and after a broken connection HEAD says where to resume;
//   4. POST /api/v1/tenders/{id}/bids {upload, statement, replaces?}: the bid, its receipt and private record.
// The values the page needs come in the form's data- attributes; the sentences in #bid-words.
//
// Bid ids are random 63-bit numbers, more than a JavaScript number holds exactly (2^53): the page keeps them as the
// strings the server wrote, never as numbers, and shows people each bid's reference instead.

import { sealEnvelope, saveToOpfs, readFromOpfs } from "./envelope.js";
import { openKeyFile, toBase64 } from "./keys.js";
import {
  ProblemError,
  callApi,
  clearProblem,
  download,
  fill,
  problemOf,
  showMessage,
  showProblem,
  wordsOf,
} from "./page-api.js";

const TUS = { "Tus-Resumable": "1.0.0" };
// Bytes per PATCH: large enough that the per-request cost vanishes, small enough that a broken connection
// costs little to send again and that each chunk's SHA-256 is computed quickly.
const CHUNK_SIZE = 8 * 1024 * 1024;
// Attempts after a failure before giving up, and the wait before the n-th (seconds, growing).
const RETRIES = 5;
const RETRY_DELAY = 1000;

const form = document.getElementById("bid-form");
const data = form.dataset;
const words = wordsOf("bid-words");
const status = document.getElementById("bid-status");
const errorBox = document.getElementById("bid-error");
const sealProgress = document.getElementById("seal-progress");
const uploadProgress = document.getElementById("upload-progress");
const result = document.getElementById("bid-result");
const lotField = document.getElementById("bid-lot");
const replacing = document.getElementById("bid-replacing");

class BrowserCheckError extends Error {}

function say(text) {
  status.textContent = text;
}

function showProgress(bar, done, total) {
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
  bar.value = percent;
  bar.textContent = `${percent}%`;
}

function pause(attempt) {
  return new Promise((resolve) => setTimeout(resolve, RETRY_DELAY * attempt));
}

// --- tus 1.0 ------------------------------------------------------------------------------------------------

async function createUpload(size) {
  const response = await callApi(`/api/v1/tenders/${data.tenderId}/uploads`, {
    method: "POST",
    csrf: data.csrf,
    headers: { ...TUS, "Upload-Length": String(size) },
  });
  return response.headers.get("Location");
}

async function uploadOffset(location) {
  const response = await callApi(location, { method: "HEAD", headers: TUS });
  return Number(response.headers.get("Upload-Offset"));
}

/** Whether a refusal of a PATCH is worth another try from where the server says the upload is. */
function resumable(response, problem) {
  // 460: the bytes arrived damaged. 409 conflict (not a refused transition such as the deadline): another
  // request was still writing, or the offset moved on with bytes that arrived before the connection broke.
  return response.status === 460 || (response.status === 409 && String(problem.type).endsWith("/problems/conflict"));
}

/**
 * Send `file` to the upload at `location`, resuming after broken connections and damaged chunks.
 * Throws ProblemError for a refusal (the deadline, a size limit), TypeError when the platform stays unreachable.
 */
async function sendFile(location, file, onProgress) {
  let offset = 0;
  let failures = 0;
  while (offset < file.size) {
    try {
      const chunk = await file.slice(offset, offset + CHUNK_SIZE).arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", chunk));
      const response = await fetch(location, {
        method: "PATCH",
        credentials: "same-origin",
        headers: {
          ...TUS,
          "Upload-Offset": String(offset),
          "Upload-Checksum": `sha256 ${toBase64(digest)}`,
          "Content-Type": "application/offset+octet-stream",
          "x-csrf-token": data.csrf,
        },
        body: chunk,
      });
      if (response.ok) {
        offset = Number(response.headers.get("Upload-Offset"));
        failures = 0;
        onProgress(offset, file.size);
        continue;
      }
      const problem = await problemOf(response);
      if (!resumable(response, problem) || failures >= RETRIES) throw new ProblemError(problem);
    } catch (error) {
      if (error instanceof ProblemError || failures >= RETRIES) throw error;
      // A TypeError: the connection broke. Where the upload stands is asked below.
    }
    failures += 1;
    say(fill(words.retrying, { attempt: failures }));
    await pause(failures);
    try {
      offset = await uploadOffset(location);
      onProgress(offset, file.size);
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      // Still unreachable: the next round tries the same chunk again, and asks again if that fails.
    }
  }
}

// --- Sealing and submitting ----------------------------------------------------------------------------------

async function openKeys() {
  say(words.readingKey);
  const file = form.elements.key_file.files[0];
  let keys;
  try {
    keys = await openKeyFile(new Uint8Array(await file.arrayBuffer()), form.elements.passphrase.value);
  } catch (error) {
    throw new BrowserCheckError(error.message === "wrong passphrase" ? words.wrongPassphrase : words.notKeyFile);
  }
  if (keys.verifierKey !== data.verifierKey) throw new BrowserCheckError(words.otherKey);
  return keys;
}

function priceSheet() {
  const { currency, total, duration_days: days, bid_security: security, remarks } = form.elements;
  const sheet = { currency: currency.value, total: total.value.trim(), remarks: remarks.value };
  if (days.value.trim()) sheet.duration_days = Number(days.value);
  if (security.value.trim()) sheet.bid_security = security.value.trim();
  return sheet;
}

function opfsName() {
  return `bid-${data.tenderId}-${Date.now()}-${crypto.getRandomValues(new Uint32Array(1))[0]}.age`;
}

async function forget(name) {
  try {
    await (await navigator.storage.getDirectory()).removeEntry(name);
  } catch {
    // Nothing to remove (sealing failed before the file was made): the browser's storage is no worse for it.
  }
}

function showResult(heading, receipt, record, name) {
  document.getElementById("bid-result-heading").textContent = heading;
  download(document.getElementById("receipt-download"), receipt, `${name}.tlog-proof`);
  download(document.getElementById("record-download"), JSON.stringify(record), `${name}.record.json`, "application/json");
  document.getElementById("proof-command").textContent =
    `bidding log proof ${name}.tlog-proof --key log.key --record ${name}.record.json`;
  result.hidden = false;
  result.focus();
}

/** The receipt of a submission or withdrawal: in the answer, or (if the log had not published it yet) fetched. */
async function receiptOf(submitted, ended) {
  if (submitted.receipt) return submitted.receipt;
  const response = await callApi(`${submitted.bid.receipt_url}${ended ? "?ended=true" : ""}`, {
    headers: { accept: "text/plain" },
  });
  return response.text();
}

/** Draw the list of bids and the lots' replacements again from the server, as the page would be after a reload. */
async function refresh() {
  const response = await fetch(location.pathname, { credentials: "same-origin", headers: { accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const section = fresh.getElementById("my-bids");
  if (section) document.getElementById("my-bids").replaceChildren(...section.childNodes);
  for (const option of fresh.querySelectorAll("#bid-lot option")) {
    const mine = lotField.querySelector(`option[value="${CSS.escape(option.value)}"]`);
    if (mine) {
      mine.dataset.replaces = option.dataset.replaces;
      mine.dataset.replacesReference = option.dataset.replacesReference;
    }
  }
  showReplacing();
}

function showReplacing() {
  const replaces = lotField.selectedOptions[0]?.dataset.replacesReference;
  replacing.hidden = !replaces;
  replacing.textContent = replaces ? fill(replacing.dataset.template, { bid: replaces }) : "";
}

/**
 * The submission's JSON body. `replaces` is a bid id as the server wrote it (decimal digits): it is written into
 * the JSON as those digits, since JSON.stringify of a number would round an id beyond 2^53.
 */
function submissionBody(upload, statement, replaces) {
  const body = JSON.stringify({ upload, statement });
  if (!replaces) return body;
  if (!/^[1-9][0-9]{0,18}$/.test(replaces)) throw new Error(`not a bid id: ${replaces}`);
  return `${body.slice(0, -1)},"replaces":${replaces}}`;
}

async function seal(event) {
  event.preventDefault();
  clearProblem(errorBox);
  result.hidden = true;
  if (!navigator.storage?.getDirectory) return showMessage(errorBox, words.noStorage);
  const button = document.getElementById("bid-submit");
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  showProgress(sealProgress, 0, 1);
  showProgress(uploadProgress, 0, 1);
  const lot = lotField.value;
  const { replaces, replacesReference } = lotField.selectedOptions[0].dataset;
  const name = opfsName();
  try {
    const keys = await openKeys();
    say(words.sealing);
    const sealed = await sealEnvelope({
      documents: [...form.elements.documents.files].map((file) => ({ name: file.name, file })),
      tender: data.reference,
      lot,
      bidder: data.bidder,
      slot: data.slot,
      priceSheet: priceSheet(),
      tenderRecipient: data.recipient,
      keys,
      sink: await saveToOpfs(name),
      onProgress: (done, total) => showProgress(sealProgress, done, total),
    });
    showProgress(sealProgress, 1, 1);
    say(words.uploading);
    const envelope = await readFromOpfs(name);
    const location = await createUpload(envelope.size);
    await sendFile(location, envelope, (done, total) => showProgress(uploadProgress, done, total));
    showProgress(uploadProgress, 1, 1);
    say(words.submitting);
    const response = await callApi(`/api/v1/tenders/${data.tenderId}/bids`, {
      method: "POST",
      csrf: data.csrf,
      headers: { "content-type": "application/json" },
      body: submissionBody(location.split("/").pop(), sealed.statement, replaces),
    });
    const submitted = await response.json();
    const reference = submitted.bid.reference;
    const heading = replaces
      ? fill(words.replaced, { bid: reference, old: replacesReference })
      : fill(words.submitted, { bid: reference });
    showResult(heading, await receiptOf(submitted, false), submitted.record, `bid-${reference}`);
    say(heading);
    form.elements.documents.value = "";
    form.elements.passphrase.value = "";
    await refresh();
  } catch (error) {
    say("");
    if (error instanceof ProblemError) showProblem(errorBox, error.problem);
    else if (error instanceof BrowserCheckError) showMessage(errorBox, error.message);
    else if (error instanceof TypeError && /fetch|network/i.test(error.message)) showMessage(errorBox, words.unreachable);
    else showMessage(errorBox, fill(words.failed, { reason: error.message }));
  } finally {
    await forget(name);
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

async function withdraw(event) {
  const withdrawal = event.target.closest("form[data-withdraw]");
  if (!withdrawal) return;
  event.preventDefault();
  clearProblem(errorBox);
  const button = withdrawal.querySelector("button");
  button.disabled = true;
  try {
    const response = await callApi(`/api/v1/bids/${withdrawal.dataset.withdraw}/withdrawal`, {
      method: "POST",
      csrf: data.csrf,
    });
    const ended = await response.json();
    const heading = fill(words.withdrawn, { bid: ended.bid.reference });
    showResult(heading, await receiptOf(ended, true), ended.record, `bid-${ended.bid.reference}-withdrawal`);
    say(heading);
    await refresh();
  } catch (error) {
    button.disabled = false;
    if (error instanceof ProblemError) showProblem(errorBox, error.problem);
    else showMessage(errorBox, words.unreachable);
  }
}

lotField.addEventListener("change", showReplacing);
form.addEventListener("submit", seal);
document.getElementById("my-bids").addEventListener("submit", withdraw);
showReplacing();
form.hidden = false;
