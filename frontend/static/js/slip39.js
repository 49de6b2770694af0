// SLIP-0039 share generation in the browser: a master secret split into k-of-n mnemonic shares of one group.
//
// Exactly what crypto/custody.py asks of shamir-mnemonic (Trezor's reference implementation of SLIP-0039, which
// combines the shares at the opening): one group (group threshold 1) of k-of-n members, the extendable backup flag
// set (the reference implementation's default), iteration exponent 0, and no passphrase. Only generation is here:
// shares are combined on the platform, at the opening, never in the browser.
//
//   split(secret, threshold, count) → (a promise of) the count mnemonics, with fresh randomness
//   splitFromParts(secret, threshold, count, randomBytes) → the same with the randomness given, so tests pin it
//   encryptMasterSecret, encodeShare, interpolate → the steps, exported for the official test vectors
//
// splitFromParts draws its randomness in the order and sizes the reference implementation draws it (the 2-byte
// identifier, then k−2 random shares, then the random part of the digest share), so the same bytes give the same
// mnemonics in both. No npm package does this well enough to vendor: the one there is (`slip39`) patches
// String.prototype and Array.prototype, needs Node's crypto module and Buffer, and cannot be given its randomness.
//
// Secrets are held in Uint8Arrays and overwritten once used. The mnemonics returned are strings, which JavaScript
// cannot overwrite: the caller seals them at once and drops them. As in the reference implementation, the field
// arithmetic uses table look-ups, whose timing may depend on the secret; the ceremony runs once, on the agency's
// own machine, where no one else measures it.

import { concat } from "./bytes.js";

const RADIX_BITS = 10;
const RADIX = 1 << RADIX_BITS;
const ID_LENGTH_BITS = 15;
const ITERATION_EXPONENT_BITS = 4;
const CHECKSUM_LENGTH_WORDS = 3;
const DIGEST_LENGTH = 4;
const MAX_SHARE_COUNT = 16;
const MIN_SECRET_LENGTH = 16;
const BASE_ITERATION_COUNT = 10000;
const ROUND_COUNT = 4;
const SECRET_INDEX = 255;
const DIGEST_INDEX = 254;
// The RS1024 checksum is keyed by this string, and so is the Feistel salt of shares without the extendable flag.
const CUSTOMIZATION_ORIGINAL = "shamir";
const CUSTOMIZATION_EXTENDABLE = "shamir_extendable";
// What crypto/custody.py split_opening_key_from_parts asks for (shamir_mnemonic.generate_mnemonics defaults
// extendable to true).
const EXTENDABLE = true;
const ITERATION_EXPONENT = 0;
const NO_PASSPHRASE = new Uint8Array(0);

const ascii = new TextEncoder();

export class Slip39Error extends Error {
  constructor(message) {
    super(message);
    this.name = "Slip39Error";
  }
}

// The SLIP-0039 wordlist: 1024 words, taken from wordlist.txt of the Python package shamir-mnemonic 0.3.0 (MIT,
// the SLIP-0039 authors; the list is part of the specification, satoshilabs/slips slip-0039/wordlist.txt).
// tests/e2e/test_browser_ceremony.py checks it against that file word for word.
export const WORDLIST = Object.freeze(
  (
  "academic acid acne acquire acrobat activity actress adapt adequate adjust admit adorn adult advance advocate " +
  "afraid again agency agree aide aircraft airline airport ajar alarm album alcohol alien alive alpha already alto " +
  "aluminum always amazing ambition amount amuse analysis anatomy ancestor ancient angel angry animal answer " +
  "antenna anxiety apart aquatic arcade arena argue armed artist artwork aspect auction august aunt average " +
  "aviation avoid award away axis axle beam beard beaver become bedroom behavior being believe belong benefit best " +
  "beyond bike biology birthday bishop black blanket blessing blimp blind blue body bolt boring born both boundary " +
  "bracelet branch brave breathe briefing broken brother browser bucket budget building bulb bulge bumpy bundle " +
  "burden burning busy buyer cage calcium camera campus canyon capacity capital capture carbon cards careful cargo " +
  "carpet carve category cause ceiling center ceramic champion change charity check chemical chest chew chubby " +
  "cinema civil class clay cleanup client climate clinic clock clogs closet clothes club cluster coal coastal " +
  "coding column company corner costume counter course cover cowboy cradle craft crazy credit cricket criminal " +
  "crisis critical crowd crucial crunch crush crystal cubic cultural curious curly custody cylinder daisy damage " +
  "dance darkness database daughter deadline deal debris debut decent decision declare decorate decrease deliver " +
  "demand density deny depart depend depict deploy describe desert desire desktop destroy detailed detect device " +
  "devote diagnose dictate diet dilemma diminish dining diploma disaster discuss disease dish dismiss display " +
  "distance dive divorce document domain domestic dominant dough downtown dragon dramatic dream dress drift drink " +
  "drove drug dryer duckling duke duration dwarf dynamic early earth easel easy echo eclipse ecology edge editor " +
  "educate either elbow elder election elegant element elephant elevator elite else email emerald emission emperor " +
  "emphasis employer empty ending endless endorse enemy energy enforce engage enjoy enlarge entrance envelope envy " +
  "epidemic episode equation equip eraser erode escape estate estimate evaluate evening evidence evil evoke exact " +
  "example exceed exchange exclude excuse execute exercise exhaust exotic expand expect explain express extend " +
  "extra eyebrow facility fact failure faint fake false family famous fancy fangs fantasy fatal fatigue favorite " +
  "fawn fiber fiction filter finance findings finger firefly firm fiscal fishing fitness flame flash flavor flea " +
  "flexible flip float floral fluff focus forbid force forecast forget formal fortune forward founder fraction " +
  "fragment frequent freshman friar fridge friendly frost froth frozen fumes funding furl fused galaxy game garbage " +
  "garden garlic gasoline gather general genius genre genuine geology gesture glad glance glasses glen glimpse goat " +
  "golden graduate grant grasp gravity gray greatest grief grill grin grocery gross group grownup grumpy guard " +
  "guest guilt guitar gums hairy hamster hand hanger harvest have havoc hawk hazard headset health hearing heat " +
  "helpful herald herd hesitate hobo holiday holy home hormone hospital hour huge human humidity hunting husband " +
  "hush husky hybrid idea identify idle image impact imply improve impulse include income increase index indicate " +
  "industry infant inform inherit injury inmate insect inside install intend intimate invasion involve iris island " +
  "isolate item ivory jacket jerky jewelry join judicial juice jump junction junior junk jury justice kernel " +
  "keyboard kidney kind kitchen knife knit laden ladle ladybug lair lamp language large laser laundry lawsuit " +
  "leader leaf learn leaves lecture legal legend legs lend length level liberty library license lift likely lilac " +
  "lily lips liquid listen literary living lizard loan lobe location losing loud loyalty luck lunar lunch lungs " +
  "luxury lying lyrics machine magazine maiden mailman main makeup making mama manager mandate mansion manual " +
  "marathon march market marvel mason material math maximum mayor meaning medal medical member memory mental " +
  "merchant merit method metric midst mild military mineral minister miracle mixed mixture mobile modern modify " +
  "moisture moment morning mortgage mother mountain mouse move much mule multiple muscle museum music mustang nail " +
  "national necklace negative nervous network news nuclear numb numerous nylon oasis obesity object observe obtain " +
  "ocean often olympic omit oral orange orbit order ordinary organize ounce oven overall owner paces pacific " +
  "package paid painting pajamas pancake pants papa paper parcel parking party patent patrol payment payroll " +
  "peaceful peanut peasant pecan penalty pencil percent perfect permit petition phantom pharmacy photo phrase " +
  "physics pickup picture piece pile pink pipeline pistol pitch plains plan plastic platform playoff pleasure plot " +
  "plunge practice prayer preach predator pregnant premium prepare presence prevent priest primary priority " +
  "prisoner privacy prize problem process profile program promise prospect provide prune public pulse pumps punish " +
  "puny pupal purchase purple python quantity quarter quick quiet race racism radar railroad rainbow raisin random " +
  "ranked rapids raspy reaction realize rebound rebuild recall receiver recover regret regular reject relate " +
  "remember remind remove render repair repeat replace require rescue research resident response result retailer " +
  "retreat reunion revenue review reward rhyme rhythm rich rival river robin rocky romantic romp roster round royal " +
  "ruin ruler rumor sack safari salary salon salt satisfy satoshi saver says scandal scared scatter scene scholar " +
  "science scout scramble screw script scroll seafood season secret security segment senior shadow shaft shame " +
  "shaped sharp shelter sheriff short should shrimp sidewalk silent silver similar simple single sister skin skunk " +
  "slap slavery sled slice slim slow slush smart smear smell smirk smith smoking smug snake snapshot sniff society " +
  "software soldier solution soul source space spark speak species spelling spend spew spider spill spine spirit " +
  "spit spray sprinkle square squeeze stadium staff standard starting station stay steady step stick stilt story " +
  "strategy strike style subject submit sugar suitable sunlight superior surface surprise survive sweater swimming " +
  "swing switch symbolic sympathy syndrome system tackle tactics tadpole talent task taste taught taxi teacher " +
  "teammate teaspoon temple tenant tendency tension terminal testify texture thank that theater theory therapy " +
  "thorn threaten thumb thunder ticket tidy timber timely ting tofu together tolerate total toxic tracks traffic " +
  "training transfer trash traveler treat trend trial tricycle trip triumph trouble true trust twice twin type " +
  "typical ugly ultimate umbrella uncover undergo unfair unfold unhappy union universe unkind unknown unusual " +
  "unwrap upgrade upstairs username usher usual valid valuable vampire vanish various vegan velvet venture verdict " +
  "verify very veteran vexed victim video view vintage violence viral visitor visual vitamins vocal voice volume " +
  "voter voting walnut warmth warn watch wavy wealthy weapon webcam welcome welfare western width wildlife window " +
  "wine wireless wisdom withdraw wits wolf woman work worthy wrap wrist writing wrote year yelp yield yoga zero"
  ).split(" "),
);

function wipe(...arrays) {
  for (const array of arrays) array.fill(0);
}

/** `length` bytes from `randomBytes`, refusing a source that gives anything else (a test's, or a broken one). */
function draw(randomBytes, length) {
  const bytes = randomBytes(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new Slip39Error(`the source of randomness must give ${length} bytes as a Uint8Array`);
  }
  return bytes;
}

// --- Shamir's secret sharing over GF(256), as SLIP-0039 defines it ----------------------------------------------

// Exponents and logarithms of the field GF(2^8) with the polynomial x^8 + x^4 + x^3 + x + 1 (that of AES), to
// the generator x + 1. LOG[0] is left at 0 and is only ever read, as in the reference implementation, for a
// share's distance to itself, where it adds nothing.
const EXP = new Uint8Array(255);
const LOG = new Uint8Array(256);
for (let i = 0, poly = 1; i < 255; i++) {
  EXP[i] = poly;
  LOG[poly] = i;
  poly = (poly << 1) ^ poly;
  if (poly & 0x100) poly ^= 0x11b;
}

/**
 * f(x) byte by byte, where f is the polynomial through `shares` ([{x, data}], data all of one length): Lagrange
 * interpolation as the reference implementation computes it. Refuses repeated x coordinates and unequal lengths.
 */
export function interpolate(shares, x) {
  if (new Set(shares.map((share) => share.x)).size !== shares.length) {
    throw new Slip39Error("share indices must be unique");
  }
  const length = shares[0].data.length;
  if (shares.some((share) => share.data.length !== length)) {
    throw new Slip39Error("all share values must have the same length");
  }
  const known = shares.find((share) => share.x === x);
  if (known) return known.data.slice();
  // The logarithm of the product of (x_i − x) over every share; in GF(2^8) subtraction is XOR.
  let logProduct = 0;
  for (const share of shares) logProduct += LOG[share.x ^ x];
  const result = new Uint8Array(length);
  for (const share of shares) {
    // The logarithm of the Lagrange basis polynomial of this share, evaluated at x.
    let logBasis = logProduct - LOG[share.x ^ x];
    for (const other of shares) logBasis -= LOG[share.x ^ other.x];
    logBasis = ((logBasis % 255) + 255) % 255;
    for (let i = 0; i < length; i++) {
      const value = share.data[i];
      if (value !== 0) result[i] ^= EXP[(LOG[value] + logBasis) % 255];
    }
  }
  return result;
}

async function hmacSha256(key, message) {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
}

/** The digest of the shared secret: the first four bytes of HMAC-SHA256 keyed by the random part. */
async function createDigest(randomPart, secret) {
  const mac = await hmacSha256(randomPart, secret);
  const digest = mac.slice(0, DIGEST_LENGTH);
  wipe(mac);
  return digest;
}

/**
 * `count` shares ([{x, data}]) of `secret`, any `threshold` of which rebuild it. Beyond one, the polynomial
 * passes through the secret at x = 255 and through the digest share (digest ‖ random part) at x = 254, so that
 * combining checks the result; its other threshold − 2 points are random shares.
 */
async function splitSecret(threshold, count, secret, randomBytes) {
  if (threshold === 1) return Array.from({ length: count }, (_, x) => ({ x, data: secret.slice() }));
  const randomShareCount = threshold - 2;
  const shares = [];
  for (let x = 0; x < randomShareCount; x++) shares.push({ x, data: draw(randomBytes, secret.length) });
  const randomPart = draw(randomBytes, secret.length - DIGEST_LENGTH);
  const digest = await createDigest(randomPart, secret);
  const digestShare = concat(digest, randomPart);
  const base = [...shares, { x: DIGEST_INDEX, data: digestShare }, { x: SECRET_INDEX, data: secret }];
  for (let x = randomShareCount; x < count; x++) shares.push({ x, data: interpolate(base, x) });
  wipe(randomPart, digest, digestShare);
  return shares;
}

// --- Encryption of the master secret: a four-round Feistel network on PBKDF2-HMAC-SHA256 --------------------------

async function roundFunction(round, passphrase, iterationExponent, salt, half) {
  const password = concat(Uint8Array.of(round), passphrase);
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  wipe(password);
  const saltedHalf = concat(salt, half);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "PBKDF2",
      hash: "SHA-256",
      salt: saltedHalf,
      iterations: (BASE_ITERATION_COUNT << iterationExponent) / ROUND_COUNT,
    },
    key,
    half.length * 8,
  );
  wipe(saltedHalf);
  return new Uint8Array(bits);
}

/**
 * The encrypted master secret (EMS) of SLIP-0039: `secret` through four Feistel rounds keyed by `passphrase`
 * (bytes of printable ASCII). Shares with the extendable flag use no salt; others are salted with "shamir" and the
 * 15-bit identifier, so their EMS changes with it.
 */
export async function encryptMasterSecret(secret, passphrase, iterationExponent, identifier, extendable) {
  if (!(secret instanceof Uint8Array) || secret.length % 2 !== 0) {
    throw new Slip39Error("the master secret must be an even number of bytes");
  }
  if (!(passphrase instanceof Uint8Array) || passphrase.some((byte) => byte < 32 || byte > 126)) {
    throw new Slip39Error("the passphrase must be printable ASCII");
  }
  if (!(Number.isInteger(iterationExponent) && iterationExponent >= 0 && iterationExponent < 16)) {
    throw new Slip39Error("the iteration exponent must be from 0 to 15");
  }
  const salt = extendable
    ? new Uint8Array(0)
    : concat(ascii.encode(CUSTOMIZATION_ORIGINAL), Uint8Array.of(identifier >> 8, identifier & 0xff));
  let left = secret.slice(0, secret.length / 2);
  let right = secret.slice(secret.length / 2);
  for (let round = 0; round < ROUND_COUNT; round++) {
    const mask = await roundFunction(round, passphrase, iterationExponent, salt, right);
    const mixed = left.map((byte, i) => byte ^ mask[i]);
    wipe(left, mask);
    [left, right] = [right, mixed];
  }
  const encrypted = concat(right, left);
  wipe(left, right);
  return encrypted;
}

// --- Mnemonics ------------------------------------------------------------------------------------------------------

// The generator of the RS1024 code: a Reed-Solomon code over GF(1024) that detects any error in up to 3 words.
const GENERATOR = [
  0xe0e040, 0x1c1c080, 0x3838100, 0x7070200, 0xe0e0009, 0x1c0c2412, 0x38086c24, 0x3090fc48, 0x21b1f890, 0x3f3f120,
];

function polymod(values) {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 20;
    checksum = ((checksum & 0xfffff) << 10) ^ value;
    for (let i = 0; i < 10; i++) if ((top >>> i) & 1) checksum ^= GENERATOR[i];
  }
  return checksum;
}

function rs1024Checksum(data, customization) {
  const residue = polymod([...ascii.encode(customization), ...data, 0, 0, 0]) ^ 1;
  return [(residue >>> 20) & 1023, (residue >>> 10) & 1023, residue & 1023];
}

/** `bytes` as 10-bit words, big-endian, zero bits padded in front to make whole words (as the reference does). */
function bytesToWords(bytes) {
  const count = Math.ceil((bytes.length * 8) / RADIX_BITS);
  const words = [];
  // The accumulator starts with the padding bits, all zero, and never holds more than 17 bits.
  let accumulator = 0;
  let bits = count * RADIX_BITS - bytes.length * 8;
  for (const byte of bytes) {
    accumulator = (accumulator << 8) | byte;
    bits += 8;
    while (bits >= RADIX_BITS) {
      bits -= RADIX_BITS;
      words.push((accumulator >>> bits) & (RADIX - 1));
      accumulator &= (1 << bits) - 1;
    }
  }
  return words;
}

function checkField(name, value, low, high) {
  if (!(Number.isInteger(value) && value >= low && value <= high)) {
    throw new Slip39Error(`the ${name} must be from ${low} to ${high}`);
  }
}

/**
 * The mnemonic of one share: {identifier, extendable, iterationExponent, groupIndex, groupThreshold, groupCount,
 * index, memberThreshold, value} as words: the identifier, flag and exponent (2 words), the group and member
 * parameters (2 words), the value, and the RS1024 checksum (3 words).
 */
export function encodeShare(share) {
  const { identifier, extendable, iterationExponent, groupIndex, groupThreshold, groupCount } = share;
  const { index, memberThreshold, value } = share;
  checkField("identifier", identifier, 0, (1 << ID_LENGTH_BITS) - 1);
  checkField("iteration exponent", iterationExponent, 0, (1 << ITERATION_EXPONENT_BITS) - 1);
  for (const [name, field] of [["group index", groupIndex], ["member index", index]]) checkField(name, field, 0, 15);
  for (const [name, field] of [
    ["group threshold", groupThreshold],
    ["group count", groupCount],
    ["member threshold", memberThreshold],
  ]) {
    checkField(name, field, 1, 16);
  }
  if (!(value instanceof Uint8Array) || value.length < MIN_SECRET_LENGTH || value.length % 2 !== 0) {
    throw new Slip39Error(`a share value is an even number of bytes, at least ${MIN_SECRET_LENGTH}`);
  }
  const idExp = (identifier << 5) | ((extendable ? 1 : 0) << ITERATION_EXPONENT_BITS) | iterationExponent;
  const parameters =
    (groupIndex << 16) | ((groupThreshold - 1) << 12) | ((groupCount - 1) << 8) | (index << 4) | (memberThreshold - 1);
  const data = [idExp >>> 10, idExp & 1023, parameters >>> 10, parameters & 1023, ...bytesToWords(value)];
  const checksum = rs1024Checksum(data, extendable ? CUSTOMIZATION_EXTENDABLE : CUSTOMIZATION_ORIGINAL);
  const words = [...data, ...checksum].map((word) => WORDLIST[word]);
  data.fill(0);
  return words.join(" ");
}

// --- Splitting --------------------------------------------------------------------------------------------------

/**
 * The `count` mnemonics of `secret` (a Uint8Array of an even number of bytes, at least 16), any `threshold` of
 * which give it back with shamir_mnemonic.combine_mnemonics, drawing randomness from `randomBytes(length)`.
 *
 * One group, the extendable flag set, iteration exponent 0, no passphrase: what crypto/custody.py makes.
 * Refuses 1-of-n for n > 1, as SLIP-0039 does (a 1-of-n share would be the same words n times).
 */
export async function splitFromParts(secret, threshold, count, randomBytes) {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_SECRET_LENGTH || secret.length % 2 !== 0) {
    throw new Slip39Error(`the master secret must be an even number of bytes, at least ${MIN_SECRET_LENGTH}`);
  }
  checkField("number of shares", count, 1, MAX_SHARE_COUNT);
  checkField("threshold", threshold, 1, count);
  if (threshold === 1 && count > 1) {
    throw new Slip39Error("SLIP-0039 makes no 1-of-n shares for n above 1: use a threshold of 2 or more");
  }
  const idBytes = draw(randomBytes, Math.ceil(ID_LENGTH_BITS / 8));
  const identifier = ((idBytes[0] << 8) | idBytes[1]) & ((1 << ID_LENGTH_BITS) - 1);
  const encrypted = await encryptMasterSecret(secret, NO_PASSPHRASE, ITERATION_EXPONENT, identifier, EXTENDABLE);
  // One group and a group threshold of 1: the group's secret is the encrypted master secret itself, at x = 0.
  const members = await splitSecret(threshold, count, encrypted, randomBytes);
  const mnemonics = members.map(({ x, data }) =>
    encodeShare({
      identifier,
      extendable: EXTENDABLE,
      iterationExponent: ITERATION_EXPONENT,
      groupIndex: 0,
      groupThreshold: 1,
      groupCount: 1,
      index: x,
      memberThreshold: threshold,
      value: data,
    }),
  );
  wipe(encrypted, ...members.map(({ data }) => data));
  return mnemonics;
}

/** {@link splitFromParts} with randomness from the browser's cryptographic generator. */
export function split(secret, threshold, count) {
  return splitFromParts(secret, threshold, count, (length) => crypto.getRandomValues(new Uint8Array(length)));
}
