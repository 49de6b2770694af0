// The opening hall: follow /ws/tenders/{id}/opening and draw each numbered message as it arrives; act in it.
//
// Every message of the hall has a number (seq). The page keeps the last one it drew and, when the connection
// drops, reconnects with ?after=<that number>, so nothing is missed and nothing is drawn twice. Each request this
// page sends carries an "id" of its own ("r1", "r2", …); its answer ({"type": "ok", id} or {"type": "error", id,
// title, detail, errors}) carries no number and echoes that id, so each is matched with its own request whatever
// the order. Heartbeats ({"type": "heartbeat"}) come on a quiet connection and are ignored.
//
// Custodians open their sealed share here, in the browser, with their key file: the share is an age file sealed
// to the custodian's post-quantum identity, holding JSON {format, tender, custodian, member, share}. Before it is
// handed in, the page checks it names this tender and that its digest is the one published at the ceremony
// (crypto/custody.py share_digest), so a wrong file is caught here rather than refused in front of everyone.
//
// Bidders, as a fallback when the custodians cannot reach k, unwrap their own envelope's file key here with their
// key file, from the envelope's header, and hand in only those 16 bytes.
//
// Bids are named by their ids, random 63-bit numbers: the hall's messages carry them as text (a JavaScript number
// holds 53 bits exactly), and this page keeps them as text, sending them back as it got them.
//
// A status line (#hall-phase) says where the opening stands. The server draws it as the page is made; messages move
// it on, never back (a page that reconnects, or loads late, is sent every message from the first).

import { Decrypter } from "../vendor/sealing-libs.js";
import { openKeyFile, toBase64, toHex } from "./keys.js";
import { ProblemError, callApi, clearProblem, fill, showMessage, showProblem, wordsOf } from "./page-api.js";

const SHARE_FORMAT = "bidding/custody-share/v1";
const SHARE_DIGEST_LABEL = "bidding/custody-share-digest/v1\n";
// Reconnection waits, in seconds: growing after each failure, never longer than the last.
const RECONNECT_DELAYS = [0.5, 1, 2, 5, 10, 15];

const hall = document.getElementById("hall");
const data = hall.dataset;
const words = wordsOf("hall-words");
const connection = document.getElementById("hall-connection");
const feed = document.getElementById("hall-feed");
const lines = document.getElementById("hall-lines");
const ownBids = new Set(data.ownBids ? data.ownBids.split(",") : []);
const phaseLine = document.getElementById("hall-phase");
// Times as the server writes them: in the reader's language and the platform's time zone, not the browser's.
const clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  timeStyle: "medium",
  timeZone: data.timezone || undefined,
});
const utf8 = new TextEncoder();

/** Bidder names by bid, from the frozen list and the lines, to name each in the reader's language. */
const bidders = new Map();
let lastSeq = 0;
/** Whether the opening key was rebuilt: a record without it was closed without k shares. */
let keyRebuilt = false;
let socket = null;
let failures = 0;
/** Requests sent and not yet answered, by their id: each resolves its request's promise with the answer. */
const waiting = new Map();
let requests = 0;

// --- Drawing ---------------------------------------------------------------------------------------------------

function element(tag, text, className) {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = text;
  if (className) made.className = className;
  return made;
}

/** An exact decimal amount with its thousands grouped: "CNY 1,250,000.00" (never through a float). */
function money(amount, currency) {
  if (amount == null) return "—";
  const [whole, fraction] = String(amount).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${currency ? `${currency} ` : ""}${grouped}${fraction !== undefined ? `.${fraction}` : ""}`;
}

function addToFeed(at, text) {
  const item = element("li");
  const time = element("time", clock.format(new Date(at)));
  time.dateTime = at;
  item.append(time, " ", text);
  feed.append(item);
}

/** A bid's bidder as the reader names it: in English on an English page where it has an English name. */
function bidderOf(bid) {
  const known = bidders.get(bid);
  if (!known) return `#${bid}`;
  return (document.documentElement.lang === "en" && known.bidderEn) || known.bidder;
}

function showShares(count, threshold) {
  const progress = document.getElementById("hall-share-progress");
  progress.max = threshold;
  progress.value = count;
  document.getElementById("hall-share-count").textContent = fill(words.shareCount, { count, threshold });
}

// The phases of an opening, in the order they come; a cancelled tender's line never moves.
const PHASES = ["before_deadline", "not_started", "shares", "decrypting", "finished", "closed_without_key"];

/** Move the status line on to `phase` (with its sentence's values), unless it stands there or further already. */
function showPhase(phase, values = {}) {
  const current = phaseLine.dataset.phase;
  if (current === "cancelled" || PHASES.indexOf(phase) < PHASES.indexOf(current)) return;
  if (phase === current && phase !== "shares") return;
  if (phase === "shares" && current === "shares" && Number(values.count) < Number(phaseLine.dataset.count)) return;
  phaseLine.dataset.phase = phase;
  if (values.count !== undefined) phaseLine.dataset.count = values.count;
  const template = words[`phase${phase.replace(/(^|_)(.)/g, (_, __, letter) => letter.toUpperCase())}`];
  phaseLine.textContent = fill(template, values);
}

function showShareProgress(count, threshold) {
  showShares(count, threshold);
  showPhase("shares", { count, needed: threshold, missing: Math.max(threshold - count, 0) });
}

function frozen(message) {
  document.getElementById("hall-bids-waiting").hidden = true;
  const list = document.getElementById("hall-bid-list");
  list.replaceChildren();
  for (const bid of message.bids) {
    bidders.set(bid.bid, { bidder: bid.bidder, bidderEn: bid.bidder_en });
    list.append(element("li", fill(words.bidItem, { bidder: bidderOf(bid.bid), lot: bid.lot })));
  }
  if (message.bids.length === 0) list.append(element("li", words.noBids, "muted"));
  // A bid replaced or withdrawn after this page was drawn is not in the opening: its fallback goes.
  const listed = new Set(message.bids.map((bid) => bid.bid));
  for (const section of fileKeySections()) if (!listed.has(section.dataset.bid)) section.remove();
  showShareProgress(0, Number(data.threshold));
  showStage("opening");
  return fill(words.frozen, { count: message.bids.length });
}

function outcomeName(outcome) {
  return words[`outcome${outcome[0].toUpperCase()}${outcome.slice(1)}`] ?? outcome;
}

/** The actions of a line: copied from a <template> the server drew, their labels tied to fresh ids. */
function actions(templateId, bid) {
  const copy = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
  for (const field of copy.querySelectorAll("[data-id]")) field.id = `${field.dataset.id}-${bid}`;
  for (const label of copy.querySelectorAll("[data-for]")) label.htmlFor = `${label.dataset.for}-${bid}`;
  copy.dataset.bid = bid;
  return copy;
}

function line(message) {
  bidders.set(message.bid, { ...bidders.get(message.bid), bidder: message.bidder });
  document.getElementById(`file-key-${message.bid}`)?.remove(); // read: nothing left to hand in for it
  const row = element("tr");
  row.id = `line-${message.bid}`;
  row.dataset.bid = message.bid;
  row.dataset.outcome = message.outcome;
  const opened = message.outcome === "opened";
  const days = message.duration_days != null ? fill(words.days, { days: message.duration_days }) : "—";
  const cells = [
    [String(message.position), "number"],
    [bidderOf(message.bid)],
    [String(message.lot), "number"],
    [opened ? money(message.total, message.currency) : "—", "number money"],
    [opened ? days : "—", "number"],
    [opened ? money(message.bid_security, message.currency) : "—", "number money"],
    [opened ? message.remarks || "" : message.reason || ""],
    [outcomeName(message.outcome)],
  ];
  for (const [text, className] of cells) row.append(element("td", text, className));
  const answers = element("td", undefined, "line-answers");
  if (ownBids.has(message.bid)) answers.append(actions("own-line-actions", message.bid));
  row.append(answers);
  row.children[7].classList.add(`outcome-${message.outcome}`);
  // Each cell carries its column's name, which a phone shows beside it when the table becomes cards (site.css).
  const heads = lines.closest("table").querySelectorAll("thead th");
  for (const [index, cell] of [...row.children].entries()) cell.dataset.label = heads[index]?.textContent ?? "";
  lines.append(row);
  const values = {
    position: message.position,
    bidder: bidderOf(message.bid),
    lot: message.lot,
    total: money(message.total, message.currency),
    outcome: outcomeName(message.outcome),
    reason: message.reason || "",
  };
  return fill(opened ? words.lineOpened : words.lineFailed, values);
}

function answersCell(bid) {
  return document.querySelector(`#line-${bid} .line-answers`);
}

function confirmed(message) {
  const cell = answersCell(message.bid);
  if (cell) cell.replaceChildren(element("span", words.confirmedTag, "tag current"));
  return fill(words.confirmed, { position: message.position });
}

function objection(message) {
  const cell = answersCell(message.bid);
  if (cell) {
    cell.replaceChildren(element("p", message.objection, "objection"));
    if ("runs" in data) cell.append(actions("answer-actions", message.bid));
  }
  return fill(words.objection, { position: message.position, text: message.objection });
}

function answer(message) {
  const cell = answersCell(message.bid);
  if (cell) {
    cell.querySelector(".line-actions")?.remove();
    cell.append(element("p", message.answer, "answer"));
  }
  return fill(words.answer, { position: message.position, text: message.answer });
}

function record(message) {
  const done = document.getElementById("hall-record-done");
  document.getElementById("hall-record-summary").textContent = fill(words.record, { lines: message.lines });
  document.getElementById("hall-record-digest").textContent = message.record_sha256;
  done.hidden = false;
  showStage("closed");
  const needed = Number(data.threshold);
  showPhase(keyRebuilt ? "finished" : "closed_without_key", { digest: message.record_sha256, needed });
  return fill(words.record, { lines: message.lines });
}

const DRAW = {
  bids_frozen: frozen,
  share(message) {
    document.getElementById("hall-share-list").append(element("li", message.custodian));
    showShareProgress(message.count, message.threshold);
    return fill(words.share, message);
  },
  key_rebuilt() {
    document.getElementById("hall-key-rebuilt").hidden = false;
    keyRebuilt = true;
    showStage("rebuilt");
    showPhase("decrypting");
    return words.keyRebuilt;
  },
  line,
  confirmed,
  objection,
  answer,
  record,
};

/** Show the actions that fit the stage of the opening: started, the key rebuilt, closed. */
function showStage(stage) {
  const show = (id, visible) => {
    const found = document.getElementById(id);
    if (found) found.hidden = !visible;
  };
  show("hall-start", false);
  show("hall-finish", stage === "opening" || stage === "rebuilt");
  show("hall-finish-hint", stage === "opening" || stage === "rebuilt");
  show("share-hand-in", stage === "opening");
  // The fallback is for an opening the custodians cannot complete: not once the key is rebuilt.
  for (const section of fileKeySections()) section.hidden = stage !== "opening";
}

/** The fallback's sections, one per bid of the reader's still sealed (drawn by the server for bidders). */
function fileKeySections() {
  return document.querySelectorAll(".hall-file-key");
}

function draw(message) {
  if (message.seq <= lastSeq) return; // seen already, before a reconnection
  lastSeq = message.seq;
  const drawer = DRAW[message.kind];
  if (drawer) addToFeed(message.at, drawer(message));
}

// --- The connection --------------------------------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/ws/tenders/${data.tenderId}/opening?after=${lastSeq}`);
  socket.addEventListener("open", () => {
    failures = 0;
    connection.textContent = words.connected;
    connection.classList.remove("broken");
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if ("seq" in message) draw(message);
    else if (message.type !== "heartbeat" && waiting.has(message.id)) {
      waiting.get(message.id)(message);
      waiting.delete(message.id);
    }
  });
  socket.addEventListener("close", () => {
    // Requests in flight on the lost connection get no answer: they are reported as not sent.
    for (const resolve of waiting.values()) resolve({ type: "error", title: words.unreachable });
    waiting.clear();
    connection.textContent = words.reconnecting;
    connection.classList.add("broken");
    const delay = RECONNECT_DELAYS[Math.min(failures, RECONNECT_DELAYS.length - 1)];
    failures += 1;
    setTimeout(connect, delay * 1000);
  });
}

/** Send an action to the hall; resolves with its answer, {type: "ok"} or {type: "error", …}. */
function send(action) {
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    return Promise.resolve({ type: "error", title: words.notConnected });
  }
  requests += 1;
  const id = `r${requests}`;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    socket.send(JSON.stringify({ ...action, id }));
  });
}

// --- A bidder's answers to its line, the agency's answers to objections ------------------------------------------

lines.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const box = button.closest(".line-actions");
  const bid = box.dataset.bid;
  const errorBox = box.querySelector("[role=alert]");
  const kind = button.dataset.action;
  const action = { type: kind, bid };
  if (kind !== "confirm") action.text = box.querySelector("textarea").value;
  clearProblem(errorBox);
  button.disabled = true;
  const reply = await send(action);
  button.disabled = false;
  if (reply.type === "error") showProblem(errorBox, reply);
});

// --- The agency: start and close -----------------------------------------------------------------------------------

async function agencyAction(path, done) {
  const status = document.getElementById("hall-agency-status");
  const errorBox = document.getElementById("hall-agency-error");
  clearProblem(errorBox);
  try {
    await callApi(path, { method: "POST", csrf: data.csrf });
    status.textContent = done;
    return true;
  } catch (error) {
    if (error instanceof ProblemError) showProblem(errorBox, error.problem);
    else showMessage(errorBox, words.unreachable);
    return false;
  }
}

document.getElementById("hall-start")?.addEventListener("click", async (event) => {
  event.target.disabled = true;
  if (await agencyAction(`/api/v1/tenders/${data.tenderId}/opening`, words.started)) showStage("opening");
  event.target.disabled = false;
});
document.getElementById("hall-finish")?.addEventListener("click", async (event) => {
  event.target.disabled = true;
  await agencyAction(`/api/v1/tenders/${data.tenderId}/opening/finish`, words.finished);
  event.target.disabled = false;
});

// --- Key files: a custodian's share, a bidder's file key ----------------------------------------------------------

/** A check made in the browser failed; its message, in the reader's language, says why. */
class CheckError extends Error {}

/** The keys in the key file chosen in `form` (its fields key_file and passphrase), or a CheckError. */
async function keysOf(form) {
  try {
    const file = form.elements.key_file.files[0];
    return await openKeyFile(new Uint8Array(await file.arrayBuffer()), form.elements.passphrase.value);
  } catch (error) {
    throw new CheckError(error.message === "wrong passphrase" ? words.wrongPassphrase : words.notKeyFile);
  }
}

/**
 * Run `work(event)` when `form` is submitted, its buttons disabled meanwhile; a refusal (ProblemError, or a
 * hall's error answer thrown as one), a failed check (CheckError) or an unreachable platform is shown in
 * `errorBox`. The form is shown: it needs this script.
 */
function whenSubmitted(form, status, errorBox, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblem(errorBox);
    const buttons = [...form.querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    try {
      await work(event);
    } catch (error) {
      status.textContent = "";
      if (error instanceof ProblemError) showProblem(errorBox, error.problem);
      else if (error instanceof CheckError) showMessage(errorBox, error.message);
      else showMessage(errorBox, words.unreachable);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
  form.hidden = false;
}

/** Send an action to the hall; resolves when it was done, throws ProblemError with the hall's refusal. */
async function act(action) {
  const reply = await send(action);
  if (reply.type === "error") throw new ProblemError(reply);
}

/** The custodian's share, opened with its key file and checked against the tender and the published digest. */
async function openShare(form, status) {
  status.textContent = words.readingKey;
  const keys = await keysOf(form);
  status.textContent = words.fetchingShare;
  const response = await callApi(`/api/v1/tenders/${data.tenderId}/custody/share`, {
    headers: { accept: "application/octet-stream" },
  });
  const published = response.headers.get("X-Share-SHA256");
  const sealed = new Uint8Array(await response.arrayBuffer());
  let payload;
  try {
    const decrypter = new Decrypter();
    decrypter.addIdentity(keys.identity);
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await decrypter.decrypt(sealed)));
  } catch {
    throw new CheckError(words.shareNotYours);
  }
  if (!payload || payload.format !== SHARE_FORMAT || typeof payload.share !== "string") {
    throw new CheckError(words.shareNotYours);
  }
  if (payload.tender !== data.reference) throw new CheckError(words.otherTender);
  // As crypto/custody.py share_digest: the words separated by single spaces, in lower case, after the label.
  const normalised = payload.share.split(/\s+/).filter(Boolean).join(" ").toLowerCase();
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(SHARE_DIGEST_LABEL + normalised));
  if (toHex(new Uint8Array(digest)) !== published) throw new CheckError(words.digestMismatch);
  return payload.share;
}

const shareForm = document.getElementById("share-form");
if (shareForm) {
  const status = document.getElementById("share-status");
  whenSubmitted(shareForm, status, document.getElementById("share-error"), async (event) => {
    const share = await openShare(shareForm, status);
    if (event.submitter?.value !== "hand-in") {
      // The check passed on this machine: the platform is told so (never the share), for the agency and the
      // custodian's dashboard.
      await callApi(`/api/v1/tenders/${data.tenderId}/custody/share/check`, { method: "POST", csrf: data.csrf });
      status.textContent = words.shareChecked;
      return;
    }
    status.textContent = words.handingIn;
    await act({ type: "share", share });
    status.textContent = words.handedIn;
    shareForm.elements.passphrase.value = "";
  });
}

// The fallback, when the custodians cannot reach k (the agency says so): a bidder's key file unwraps its own
// envelope's 16-byte file key from the envelope's header (GET /api/v1/bids/{id}/header), here in the browser, and
// only that key goes to the hall. It opens that one envelope and nothing else; the key file never leaves the page.

/** The file key of bid `bid`'s envelope, unwrapped with the key file chosen in `form`. */
async function unwrapFileKey(form, status, bid) {
  status.textContent = words.readingKey;
  const keys = await keysOf(form);
  status.textContent = words.unwrapping;
  const response = await callApi(`/api/v1/bids/${bid}/header`, { headers: { accept: "application/octet-stream" } });
  const header = new Uint8Array(await response.arrayBuffer());
  try {
    const decrypter = new Decrypter();
    decrypter.addIdentity(keys.identity);
    // Checks the header's MAC too: a key that unwraps is the one this envelope was sealed with.
    return await decrypter.decryptHeader(header);
  } catch {
    throw new CheckError(words.keyNotYours);
  }
}

for (const section of fileKeySections()) {
  const bid = section.dataset.bid;
  const form = section.querySelector("form");
  const status = document.getElementById(`file-key-status-${bid}`);
  whenSubmitted(form, status, document.getElementById(`file-key-error-${bid}`), async () => {
    const fileKey = await unwrapFileKey(form, status, bid);
    form.elements.passphrase.value = "";
    status.textContent = words.handingInKey;
    // The bid's line arrives as a message of the hall, and takes this section away (see line()).
    await act({ type: "file_key", bid, file_key: toBase64(fileKey) });
    status.textContent = words.keyHandedIn;
  });
}

// Before the deadline nothing happens in the hall: the page connects when it passes (the longest timer a browser
// keeps is about 24.8 days, so a longer wait is taken in steps). The platform's clock decides what may happen
// then; this one only decides when to look.
const LONGEST_TIMER = 2 ** 31 - 1;

function atDeadline() {
  const left = Date.parse(data.deadline) - Date.now();
  if (left > 0) {
    setTimeout(atDeadline, Math.min(left, LONGEST_TIMER));
    return;
  }
  for (const button of document.querySelectorAll("[data-at-deadline]")) button.hidden = false;
  const before = document.getElementById("hall-before-deadline");
  if (before) before.hidden = true;
  showPhase("not_started");
  connect();
}

if ("beforeDeadline" in data) {
  connection.textContent = words.waiting;
  atDeadline();
} else {
  connect();
}
