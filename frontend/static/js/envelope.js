// Sealing a bid on the bidder's machine: the documents, the manifest and its signature in a ZIP, sealed with age,
// in one streaming pass; the same envelope crypto/envelope.py seal_envelope makes, and that open_envelope opens.
//
//   sealEnvelope({documents, tender, lot, bidder, slot, priceSheet, tenderRecipient, keys, created, sink,
//                 onProgress}) → {statement, envelopeSha256, envelopeSize, manifest}
//   saveToOpfs(name) → a WritableStream into a file of the Origin Private File System
//   readFromOpfs(name) → that file, as a File, to upload
//
// Nothing is held whole: each document is read as a stream, hashed and CRC'd on the way, the ZIP is produced as
// it is pulled and sealed as it is produced, and the envelope's own SHA-256 and size are counted as it flows into
// the sink. Memory stays at a few chunks whatever the size, so a 1 GB bid seals into OPFS on an ordinary laptop.
// The statement returned is the signed note the bidder submits with the upload; it names the envelope's hash.

import { Encrypter, sha256 } from "../vendor/sealing-libs.js";
import { signNote, toHex } from "./keys.js";

const STATEMENT_FORMAT = "bidding/bid-statement/v1";
const MANIFEST_FORMAT = "bidding/bid-manifest/v1";
const MANIFEST_SIGNATURE_FORMAT = "bidding/bid-manifest-signature/v1";
const MANIFEST_NAME = "manifest.json";
const SIGNATURE_NAME = "manifest.sig";
const SLOTS = ["single", "technical", "commercial"];
const PQ_RECIPIENT = "age1pq1";
// Limits of crypto/statement.py: documents per envelope, and characters (code points) in a document's name.
const MAX_DOCUMENTS = 1000;
const MAX_NAME_LENGTH = 255;

const utf8 = new TextEncoder();

export class EnvelopeError extends Error {
  constructor(message) {
    super(message);
    this.name = "EnvelopeError";
  }
}

// --- The checks crypto/statement.py makes, made before anything is read --------------------------------------

const IDENTIFIER = /^[\x21-\x7e]{1,64}$/;
const MONEY = /^(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?$/;
const CREATED = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
// statement.REFUSED_CATEGORIES: controls, format characters, surrogates, private use and separators but the ASCII
// space. Unassigned code points pass, as there: this browser's Unicode is likely newer than the platform's Python.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

function checkIdentifier(kind, value) {
  if (typeof value !== "string" || !IDENTIFIER.test(value)) {
    throw new EnvelopeError(`${kind} must be 1 to 64 printable characters without spaces`);
  }
}

/** check_document_name: plain file names only, nothing that could escape a folder or confuse a reader. */
function checkDocumentName(name) {
  const length = typeof name === "string" ? [...name].length : 0;
  if (
    !(length > 0 && length <= MAX_NAME_LENGTH) ||
    name === "." ||
    name === ".." ||
    /[/\\\x00]/.test(name) ||
    UNPRINTABLE.test(name) ||
    name !== name.trim()
  ) {
    throw new EnvelopeError(`${JSON.stringify(name)} is not an acceptable document name`);
  }
}

/** The price sheet as PriceSheet keeps it: the optional figures left out when absent, remarks always present. */
function priceSheetOf(sheet) {
  const known = ["currency", "total", "duration_days", "bid_security", "remarks"];
  if (typeof sheet !== "object" || sheet === null || Object.keys(sheet).some((key) => !known.includes(key))) {
    throw new EnvelopeError(`the price sheet has only ${known.join(", ")}`);
  }
  const { currency, total, duration_days: days, bid_security: security, remarks = "" } = sheet;
  if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) {
    throw new EnvelopeError("currency must be an ISO 4217 code such as CNY");
  }
  const notMoney = (amount) => typeof amount !== "string" || !MONEY.test(amount);
  for (const [name, amount] of [["total", total], ["bid security", security]]) {
    if ((name === "total" || amount != null) && notMoney(amount)) {
      throw new EnvelopeError(`${name} must be a decimal amount with at most 4 decimals, such as 1234.50`);
    }
  }
  if (days != null && !(Number.isInteger(days) && days > 0 && days <= 100_000)) {
    throw new EnvelopeError("duration must be a positive number of days");
  }
  if (typeof remarks !== "string" || [...remarks].length > 2000) {
    throw new EnvelopeError("remarks can have at most 2000 characters");
  }
  const out = { currency, total };
  if (days != null) out.duration_days = days;
  if (security != null) out.bid_security = security;
  out.remarks = remarks;
  return out;
}

/**
 * Canonical JSON (RFC 8785) of the values a manifest holds: objects, arrays, strings and safe integers. Keys sort
 * by UTF-16 code units (JavaScript's own string order) and strings escape as JSON.stringify does, which is the
 * serialization RFC 8785 adopts.
 */
function canonicalJson(value) {
  if (typeof value === "string") {
    if (/\p{Cs}/u.test(value)) throw new EnvelopeError("text with a lone surrogate has no canonical JSON form");
    return JSON.stringify(value);
  }
  if (Number.isSafeInteger(value)) return String(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${canonicalJson(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  throw new EnvelopeError("a manifest holds only text, whole numbers, lists and objects");
}

// --- ZIP, written forward only ----------------------------------------------------------------------------------

// CRC-32 (ISO 3309, the ZIP one), reflected, one table lookup per byte.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(crc, bytes) {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// Python's zipfile switches to zip64 fields above 2**31 - 1, not 2**32 - 1, for readers that take them as signed.
const ZIP64_LIMIT = 2 ** 31 - 1;
const ZIP64_VERSION = 45;
const DEFAULT_VERSION = 20;
const UNIX = 3;
const USES_DATA_DESCRIPTOR = 0x08;
const UTF8_NAME = 0x800;
// 1980-01-01 00:00:00, as crypto/envelope.py: no clock in the ZIP, the manifest says when.
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
// A regular file, rw-r--r--, in the Unix half of the external attributes.
const FILE_ATTRIBUTES = 0o100644 * 0x10000;

/** A little-endian record built field by field: [2, value] or [4, value] or [8, value]. */
function record(fields, ...tails) {
  const size = fields.reduce((sum, [width]) => sum + width, 0);
  const out = new Uint8Array(size + tails.reduce((sum, tail) => sum + tail.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [width, value] of fields) {
    if (width === 2) view.setUint16(at, value, true);
    else if (width === 4) view.setUint32(at, value, true);
    else view.setBigUint64(at, BigInt(value), true);
    at += width;
  }
  for (const tail of tails) {
    out.set(tail, at);
    at += tail.length;
  }
  return out;
}

/**
 * A ZIP archive of stored entries written strictly forward, so it can be streamed: each method returns the bytes
 * to emit next. Streamed entries are laid out as Python's zipfile writes them with force_zip64=True to a stream
 * it cannot seek: a zip64 local header with no sizes, the data, then a data descriptor with the CRC and 64-bit
 * sizes. The central directory takes zip64 fields only where a value needs them.
 */
class ZipWriter {
  constructor() {
    this.offset = 0;
    this.entries = [];
  }

  emit(bytes) {
    this.offset += bytes.length;
    return bytes;
  }

  /** The local header of an entry whose data follows in pieces (update) and ends with endStreamed. */
  beginStreamed(name) {
    const encoded = utf8.encode(name);
    this.current = { encoded, flags: nameFlags(name) | USES_DATA_DESCRIPTOR, offset: this.offset, crc: 0, size: 0 };
    const zip64Extra = record([[2, 0x0001], [2, 16], [8, 0], [8, 0]]);
    return this.emit(
      record(
        [[4, 0x04034b50], [2, ZIP64_VERSION], [2, this.current.flags], [2, 0], [2, DOS_TIME], [2, DOS_DATE],
         [4, 0], [4, 0xffffffff], [4, 0xffffffff], [2, encoded.length], [2, zip64Extra.length]],
        encoded,
        zip64Extra,
      ),
    );
  }

  update(chunk) {
    this.current.crc = crc32(this.current.crc, chunk);
    this.current.size += chunk.length;
    this.offset += chunk.length;
    return chunk;
  }

  endStreamed() {
    const { crc, size } = this.current;
    this.entries.push({ ...this.current, version: ZIP64_VERSION });
    this.current = null;
    return this.emit(record([[4, 0x08074b50], [4, crc], [8, size], [8, size]]));
  }

  /** A whole entry whose bytes are known: CRC and sizes go in the local header, no descriptor needed. */
  whole(name, bytes) {
    const encoded = utf8.encode(name);
    const entry = {
      encoded, flags: nameFlags(name), offset: this.offset, crc: crc32(0, bytes), size: bytes.length,
      version: DEFAULT_VERSION,
    };
    this.entries.push(entry);
    return this.emit(
      record(
        [[4, 0x04034b50], [2, DEFAULT_VERSION], [2, entry.flags], [2, 0], [2, DOS_TIME], [2, DOS_DATE],
         [4, entry.crc], [4, entry.size], [4, entry.size], [2, encoded.length], [2, 0]],
        encoded,
        bytes,
      ),
    );
  }

  /** The central directory and the end records, zip64 ones included when offsets or counts need them. */
  finish() {
    const start = this.offset;
    const parts = this.entries.map((entry) => {
      const big = entry.size > ZIP64_LIMIT;
      const far = entry.offset > ZIP64_LIMIT;
      // The zip64 extra holds, in this order, only the fields whose 32-bit slots say 0xffffffff.
      const wide = [...(big ? [[8, entry.size], [8, entry.size]] : []), ...(far ? [[8, entry.offset]] : [])];
      const extra = wide.length ? record([[2, 0x0001], [2, wide.length * 8], ...wide]) : new Uint8Array(0);
      const version = wide.length ? ZIP64_VERSION : entry.version;
      return record(
        [[4, 0x02014b50], [2, (UNIX << 8) | version], [2, version], [2, entry.flags], [2, 0], [2, DOS_TIME],
         [2, DOS_DATE], [4, entry.crc], [4, big ? 0xffffffff : entry.size], [4, big ? 0xffffffff : entry.size],
         [2, entry.encoded.length], [2, extra.length], [2, 0], [2, 0], [2, 0], [4, FILE_ATTRIBUTES],
         [4, far ? 0xffffffff : entry.offset]],
        entry.encoded,
        extra,
      );
    });
    const directory = parts.reduce((sum, part) => sum + part.length, 0);
    const count = this.entries.length;
    const tail = [];
    const zip64 = count > 0xffff || start > ZIP64_LIMIT || directory > ZIP64_LIMIT;
    if (zip64) {
      const at = start + directory;
      tail.push(
        record([[4, 0x06064b50], [8, 44], [2, (UNIX << 8) | ZIP64_VERSION], [2, ZIP64_VERSION], [4, 0], [4, 0],
                [8, count], [8, count], [8, directory], [8, start]]),
        record([[4, 0x07064b50], [4, 0], [8, at], [4, 1]]),
      );
    }
    // As Python's zipfile: the 32-bit fields hold what fits, the zip64 record (when there is one) the truth.
    const [count16, directory32, start32] = [Math.min(count, 0xffff), Math.min(directory, 0xffffffff),
      Math.min(start, 0xffffffff)];
    tail.push(
      record([[4, 0x06054b50], [2, 0], [2, 0], [2, count16], [2, count16], [4, directory32], [4, start32], [2, 0]]),
    );
    return [...parts, ...tail].map((part) => this.emit(part));
  }
}

function nameFlags(name) {
  // As Python's zipfile: names beyond ASCII are UTF-8 and say so; ASCII names need no flag.
  return /^[\x00-\x7f]*$/.test(name) ? 0 : UTF8_NAME;
}

// --- Sealing ------------------------------------------------------------------------------------------------------

/** A ReadableStream pulling from an async generator one chunk at a time: the consumer sets the pace. */
function streamOf(generator) {
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await generator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await generator.return(reason);
    },
  });
}

/**
 * The ZIP's bytes in order: each document as read, then manifest.json and manifest.sig, then the directory.
 * `seal(listed)` is called once every document is hashed and returns the manifest bytes and their signature.
 */
async function* zipChunks(documents, seal, progress) {
  const zip = new ZipWriter();
  const listed = [];
  for (const { name, file } of documents) {
    yield zip.beginStreamed(name);
    const digest = sha256.create();
    let size = 0;
    const reader = file.stream().getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        digest.update(value);
        size += value.length;
        progress(value.length);
        yield zip.update(value);
      }
    } finally {
      reader.releaseLock();
    }
    yield zip.endStreamed();
    listed.push({ name, size, sha256: toHex(digest.digest()) });
  }
  const { manifestBytes, signatureBytes } = seal(listed);
  yield zip.whole(MANIFEST_NAME, manifestBytes);
  yield zip.whole(SIGNATURE_NAME, signatureBytes);
  yield* zip.finish();
}

function now() {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * Seal `documents` ([{name, file}], files or blobs) into an envelope written to `sink`, and sign its statement.
 *
 * The envelope is an age file to `tenderRecipient` (the tender's opening recipient, age1pq1…) and to the bidder's
 * own recipient in `keys` (from openKeyFile); `keys` also signs the manifest and the statement. `priceSheet` has
 * the fields of crypto/statement.py PriceSheet: {currency, total, duration_days?, bid_security?, remarks?}, amounts
 * as decimal strings. `created` is when the bidder sealed it, "YYYY-MM-DDTHH:MM:SSZ" (default: now, by this
 * machine's clock; the platform's clock is what decides the deadline). `sink` is closed when the envelope is
 * complete and aborted if sealing fails. `onProgress(bytesDone, bytesTotal)` counts the documents' bytes as they
 * are sealed.
 *
 * Returns {statement, envelopeSha256, envelopeSize, manifest}: the signed statement to submit with the upload, the
 * envelope's SHA-256 (hex) and size as it names them, and the manifest sealed inside. Throws EnvelopeError for
 * fields the platform would refuse, before reading anything.
 */
export async function sealEnvelope({
  documents,
  tender,
  lot,
  bidder,
  slot,
  priceSheet,
  tenderRecipient,
  keys,
  created = now(),
  sink,
  onProgress = () => {},
}) {
  checkIdentifier("tender", tender);
  checkIdentifier("lot", lot);
  checkIdentifier("bidder", bidder);
  if (!SLOTS.includes(slot)) throw new EnvelopeError(`slot must be one of ${SLOTS.join(", ")}`);
  if (typeof created !== "string" || !CREATED.test(created)) {
    throw new EnvelopeError("created must be an RFC 3339 UTC time such as 2026-11-21T08:30:00Z");
  }
  const price_sheet = priceSheetOf(priceSheet);
  if (!Array.isArray(documents) || documents.length > MAX_DOCUMENTS) {
    throw new EnvelopeError(`an envelope holds at most ${MAX_DOCUMENTS} documents`);
  }
  const names = documents.map(({ name }) => name);
  names.forEach(checkDocumentName);
  if (!documents.every(({ file }) => file instanceof Blob)) throw new EnvelopeError("each document is a File or Blob");
  if (new Set(names).size !== names.length || names.includes(MANIFEST_NAME) || names.includes(SIGNATURE_NAME)) {
    throw new EnvelopeError(`document names must be distinct and not ${MANIFEST_NAME} or ${SIGNATURE_NAME}`);
  }

  let manifest;
  const seal = (listed) => {
    manifest = { format: MANIFEST_FORMAT, tender, lot, bidder, slot, price_sheet, documents: listed, created };
    const manifestBytes = utf8.encode(canonicalJson(manifest));
    const signed = `${MANIFEST_SIGNATURE_FORMAT}\nsha256 ${toHex(sha256(manifestBytes))}\n`;
    return { manifestBytes, signatureBytes: utf8.encode(signNote(signed, keys.name, keys.signingSeed)) };
  };

  const total = documents.reduce((sum, { file }) => sum + file.size, 0);
  let done = 0;
  const progress = (count) => {
    done += count;
    onProgress(done, total);
  };

  // Both recipients post-quantum: a file that also opened with a classical key would be only as strong as it.
  const encrypter = new Encrypter();
  for (const recipient of [tenderRecipient, keys.recipient]) {
    try {
      if (!recipient.startsWith(PQ_RECIPIENT)) throw new Error();
      encrypter.addRecipient(recipient);
    } catch {
      throw new EnvelopeError(`${JSON.stringify(recipient)} is not a post-quantum age recipient (${PQ_RECIPIENT}…)`);
    }
  }
  const sealed = await encrypter.encrypt(streamOf(zipChunks(documents, seal, progress)));

  const digest = sha256.create();
  let envelopeSize = 0;
  const counter = new TransformStream({
    transform(chunk, controller) {
      digest.update(chunk);
      envelopeSize += chunk.length;
      controller.enqueue(chunk);
    },
  });
  await sealed.pipeThrough(counter).pipeTo(sink);

  const envelopeSha256 = toHex(digest.digest());
  const text =
    `${STATEMENT_FORMAT}\ntender ${tender}\nlot ${lot}\nbidder ${bidder}\nslot ${slot}\n` +
    `envelope sha256:${envelopeSha256}\nsize ${envelopeSize}\n`;
  return { statement: signNote(text, keys.name, keys.signingSeed), envelopeSha256, envelopeSize, manifest };
}

// --- The Origin Private File System: where a large envelope waits for its upload ----------------------------------

/** A WritableStream into the OPFS file `name`, emptied first; the file holds the data once the stream closes. */
export async function saveToOpfs(name) {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(name, { create: true });
  return handle.createWritable({ keepExistingData: false });
}

/** The OPFS file `name` as a File, to upload in slices (File.slice reads from disk, not memory). */
export async function readFromOpfs(name) {
  const root = await navigator.storage.getDirectory();
  return (await root.getFileHandle(name)).getFile();
}
