/**
 * Parity with Hugging Face transformers for the families beyond BERT, RoBERTa and DistilBERT (ELECTRA with and
 * without its embedding projection, ALBERT with one and with two shared layer groups, XLM-RoBERTa), at tiny
 * sizes, made on the fly by test/python/real_size_reference.py in the pip-torch lane: eval logits, the loss,
 * every gradient, and every parameter after three steps of transformers' own training arithmetic, with the
 * tolerances of real-size-transformers.test.ts (test/helpers/transformers-cases.ts). For ALBERT a shared
 * tensor's gradient is the sum over the layers that use it, as in transformers. Three of them also in bfloat16
 * mixed precision against transformers under CPU autocast (test/helpers/transformers-cases-bf16.ts).
 */
import test from 'ava';
import { noteWhenSkipped, referencePython, transformersTest } from '../helpers/python.js';
import { checkCase, References } from '../helpers/transformers-cases.js';
import { checkCaseBf16 } from '../helpers/transformers-cases-bf16.js';

noteWhenSkipped('parity with transformers for ELECTRA, ALBERT and XLM-RoBERTa');

const CASES = [
  'electra-tiny:classification',
  'electra-tiny-square:classification',
  'albert-tiny:classification',
  'albert-tiny:regression',
  'albert-tiny-groups:classification',
  'xlm-roberta-tiny:classification',
];
/** The same families in bfloat16 mixed precision, against transformers under CPU autocast. */
const BF16_CASES = [
  'electra-tiny:classification:bf16',
  'electra-tiny-square:classification:bf16',
  'albert-tiny:classification:bf16',
  'albert-tiny-groups:classification:bf16',
  'xlm-roberta-tiny:classification:bf16',
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
