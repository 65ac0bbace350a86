/**
 * The parts of a SentencePiece model file (a `ModelProto` protobuf: sentencepiece.bpe.model, spiece.model,
 * spm.model) that transformers reads to build a tokenizer without tokenizer.json: the pieces with their
 * scores and types, the trainer's unknown id, model type and byte fallback, and the normalizer's charsmap.
 * A minimal protobuf reader: unknown fields are skipped, and a message field that appears twice is merged
 * (later scalars win), as protobuf parsers do.
 */
import { HealbertError } from '../errors.js';

/** SentencePiece's piece types (ModelProto.SentencePiece.Type). */
export const PIECE_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SentencePieceModel {
  pieces: { piece: string; score: number; type: number }[];
  /** 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  unkId: number;
  byteFallback: boolean;
  /** The precompiled charsmap, or undefined when the model has none (or an empty one). */
  charsmap: Uint8Array | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (why: string) => never,
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail('a number runs past the end');
      const b = this.bytes[this.pos++] as number;
      // Numbers above 2^53 do not occur in the fields read here; negative int32 take 10 bytes.
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 70) this.fail('a number is too long');
    }
    return result;
  }

  /** An int32 field (negative values are written as 64-bit two's complement). */
  int32(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v > 0x7fffffff ? v - 2 ** 32 : v;
  }

  bytesField(): Uint8Array {
    const length = this.varint();
    if (this.pos + length > this.bytes.length) this.fail('a field runs past the end');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  float(): number {
    if (this.pos + 4 > this.bytes.length) this.fail('a float runs past the end');
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytesField();
    else if (wire === 5) this.pos += 4;
    else this.fail(`an unsupported wire type ${wire}`);
  }

  /** Calls `field` for each (number, wire type) until the end; the callback reads or skips the value. */
  fields(field: (number: number, wire: number) => void): void {
    while (!this.done) {
      const key = this.varint();
      field(Math.floor(key / 8), key % 8);
    }
  }
}

export function parseSentencePieceModel(bytes: Uint8Array, path: string): SentencePieceModel {
  const fail = (why: string): never => {
    throw new HealbertError('ERR_DATA', `${path}: not a SentencePiece model (${why})`);
  };
  const model: SentencePieceModel = { pieces: [], modelType: 1, unkId: 0, byteFallback: false, charsmap: undefined };
  const top = new Reader(bytes, fail);
  top.fields((number, wire) => {
    if (number === 1 && wire === 2) {
      const piece = { piece: '', score: 0, type: PIECE_TYPE.NORMAL as number };
      const r = new Reader(top.bytesField(), fail);
      r.fields((n, w) => {
        if (n === 1 && w === 2) piece.piece = decode(r.bytesField(), fail);
        else if (n === 2 && w === 5) piece.score = r.float();
        else if (n === 3 && w === 0) piece.type = r.varint();
        else r.skip(w);
      });
      model.pieces.push(piece);
    } else if (number === 2 && wire === 2) {
      const r = new Reader(top.bytesField(), fail);
      r.fields((n, w) => {
        if (n === 3 && w === 0) model.modelType = r.varint();
        else if (n === 35 && w === 0) model.byteFallback = r.varint() !== 0;
        else if (n === 40 && w === 0) model.unkId = r.int32();
        else r.skip(w);
      });
    } else if (number === 3 && wire === 2) {
      const r = new Reader(top.bytesField(), fail);
      r.fields((n, w) => {
        if (n === 2 && w === 2) {
          const charsmap = r.bytesField();
          model.charsmap = charsmap.length > 0 ? charsmap : undefined;
        } else r.skip(w);
      });
    } else top.skip(wire);
  });
  if (model.pieces.length === 0) fail('no pieces');
  return model;
}

function decode(bytes: Uint8Array, fail: (why: string) => never): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return fail('a piece is not UTF-8');
  }
}
