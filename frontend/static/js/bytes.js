// Byte arrays, for the modules that build binary formats (keys.js: signed notes; slip39.js: shares).

/** The arrays of `parts`, one after the other, in a new Uint8Array. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
