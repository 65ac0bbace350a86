/**
 * Parity with Hugging Face transformers for DeBERTa-v2/v3 and ModernBERT, at tiny sizes, made on the fly by
 * test/python/real_size_reference.py in the pip-torch lane: eval logits, the loss, every gradient, and every
 * parameter after three steps of transformers' own training arithmetic, on a batch with a padded row, with the
 * tolerances of real-size-transformers.test.ts (test/helpers/transformers-cases.ts); and in bfloat16 mixed
 * precision against transformers under CPU autocast with its LayerNorms in float32 (transformers-cases-bf16.ts).
 * DeBERTa: shared keys with log buckets (the 24-token batch reaches past the buckets' linear range), its own
 * position projections with absolute positions, token types and embed_proj, and c2p alone. ModernBERT: global
 * and sliding-window layers over sequences longer than the window (24 tokens, window 8; and 96 tokens, which
 * healbert runs through its blocked sliding-window path), first-token and mean pooling, with and without biases.
 */
import test from 'ava';
import { noteWhenSkipped, referencePython, transformersTest } from '../helpers/python.js';
import { checkCase, References } from '../helpers/transformers-cases.js';
import { checkCaseBf16 } from '../helpers/transformers-cases-bf16.js';

noteWhenSkipped('parity with transformers for DeBERTa-v2/v3 and ModernBERT');

const CASES = [
  'deberta-v3-tiny:classification',
  'deberta-v3-tiny:regression',
  'deberta-v2-tiny:classification',
  'deberta-v3-tiny-c2p:classification',
  'modernbert-tiny:classification',
  'modernbert-tiny:regression',
  'modernbert-tiny-mean:classification',
  'modernbert-tiny-long:classification',
];
const BF16_CASES = [
  'deberta-v3-tiny:classification:bf16',
  'deberta-v2-tiny:classification:bf16',
  'modernbert-tiny:classification:bf16',
  'modernbert-tiny-mean:classification:bf16',
  'modernbert-tiny-long:classification:bf16',
];

let references: References | undefined;
if (referencePython) {
  const python = referencePython;
  test.before(() => {
    references = new References(python, [...CASES, ...BF16_CASES]);
  });
  test.after.always(() => references?.dispose());
}

for (const item of CASES) {
  (referencePython ? test.serial : transformersTest)(
    `${item.replace(':', ' ')}: logits, loss, every gradient and the parameters after 3 AdamW steps match transformers`,
    (t) => checkCase(t, item, references as References),
  );
}

for (const item of BF16_CASES) {
  (referencePython ? test.serial : transformersTest)(
    `${item.replaceAll(':', ' ')}: logits, loss, every gradient and the parameters after 3 AdamW steps match transformers' autocast`,
    (t) => checkCaseBf16(t, item, references as References),
  );
}
