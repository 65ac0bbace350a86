/**
 * The tiny Unigram tokenizers of test/fixtures/tokenizer/unigram (made by make_fixtures.py there), written
 * out as model folders in a temporary directory once per test process. The bundle stores SentencePiece's
 * nmt_nfkc charsmap once; each tokenizer.json gets it back in place of "@charsmap@", and each .model file
 * as one more normalizer_spec field (protobuf merges a message field that appears twice).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fixtures, type ParityInput, parityInputs } from './helpers.js';

type File = string | { base64: string; append_charsmap?: boolean };

interface Bundle {
  made_by: Record<string, string>;
  charsmap: string;
  folders: Record<string, Record<string, File>>;
}

export const unigramFixtureDir = join(fixtures, 'tokenizer', 'unigram');

let bundle: Bundle | undefined;
let root: string | undefined;

export function unigramBundle(): Bundle {
  bundle ??= JSON.parse(gunzipSync(readFileSync(join(unigramFixtureDir, 'fixtures.json.gz'))).toString('utf8')) as Bundle;
  return bundle;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A .model file's bytes with the charsmap appended as normalizer_spec (field 3) { precompiled_charsmap (field 2) }. */
function withCharsmap(model: Buffer, charsmap: Buffer): Buffer {
  const inner = Buffer.concat([Buffer.from([0x12, ...varint(charsmap.length)]), charsmap]);
  return Buffer.concat([model, Buffer.from([0x1a, ...varint(inner.length)]), inner]);
}

/** The folder that holds one fixture per subfolder (written on first use). */
export function unigramFixtures(): string {
  if (root !== undefined) return root;
  const { charsmap, folders } = unigramBundle();
  const dir = mkdtempSync(join(tmpdir(), 'healbert-unigram-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const [name, files] of Object.entries(folders)) {
    mkdirSync(join(dir, name));
    for (const [file, content] of Object.entries(files)) {
      const path = join(dir, name, file);
      if (typeof content === 'string') writeFileSync(path, content.replaceAll('@charsmap@', charsmap));
      else {
        const bytes = Buffer.from(content.base64, 'base64');
        writeFileSync(path, content.append_charsmap ? withCharsmap(bytes, Buffer.from(charsmap, 'base64')) : bytes);
      }
    }
  }
  root = dir;
  return dir;
}

export function unigramFixture(name: string): string {
  if (!(name in unigramBundle().folders)) throw new Error(`no Unigram fixture '${name}'`);
  return join(unigramFixtures(), name);
}

/** The parity edge cases and the Unigram ones (inputs.jsonl beside the bundle). */
export function unigramInputs(): ParityInput[] {
  const extra = readFileSync(join(unigramFixtureDir, 'inputs.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ParityInput);
  return [...parityInputs(), ...extra];
}
