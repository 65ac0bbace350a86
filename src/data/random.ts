/** A small seeded PRNG (sfc32 seeded through splitmix32): the same seed gives the same sequence everywhere. */

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform floats in [0, 1) from a 32-bit seed (and an optional stream number, e.g. the epoch). */
export function seededRandom(seed: number, stream = 0): () => number {
  const init = splitmix32((seed ^ Math.imul(stream + 1, 0x632be5ab)) >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/**
 * Fills `out` with the first out.length numbers seededRandom(seed, stream) returns, in one loop whose
 * state stays in locals: the closure's state words are boxed on every call, which made the report's
 * bootstraps (hundreds of millions of draws at cluster scale) spend most of their time allocating.
 */
export function fillUniform(out: Float64Array, seed: number, stream = 0): Float64Array {
  const init = splitmix32((seed ^ Math.imul(stream + 1, 0x632be5ab)) >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  for (let i = 0; i < out.length; i++) {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    out[i] = t / 4294967296;
  }
  return out;
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(items: T, random: () => number): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
