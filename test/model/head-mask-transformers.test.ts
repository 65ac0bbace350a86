/**
 * A head zeroed by healbert is the head transformers means: `corrupt --heads h --layers l --method zero`
 * gives the logits transformers gives with that head masked (its output multiplied by 0, as head_mask did;
 * test/python/head_mask.py), on BERT, RoBERTa and DistilBERT. Masking another head gives other logits, so
 * the match is not a coincidence of a head that does nothing.
 */
import { join } from 'node:path';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model } from '../../src/model/model.js';
import { tempDir } from '../helpers/checkpoints.js';
import { maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { noteWhenSkipped, runPython, transformersTest } from '../helpers/python.js';

noteWhenSkipped('a head zeroed in healbert against transformers with that head masked');

const TOLERANCE = 1e-5;
// Rows of ids inside every fixture's vocabulary, never a pad id (0 or 1) nor RoBERTa's specials.
const ROWS = [
  [3, 17, 25, 8, 40, 12, 9, 33, 2],
  [3, 51, 6, 44, 19, 27, 11, 60, 2],
];

for (const [fixture, layer, head] of [
  ['tiny-bert-sst2', 1, 1],
  ['tiny-roberta', 1, 2],
  ['tiny-distilbert', 0, 3],
] as const) {
  transformersTest(`${fixture}: zeroing head ${head} of layer ${layer} gives transformers' logits with that head masked`, async (t) => {
    const dir = join(tempDir(), fixture);
    const model = await Model.load(modelFixture(fixture), { seed: 1 });
    await model.save(dir); // both sides read the same weights, the task head included
    const batch = {
      batchSize: ROWS.length,
      seqLen: ROWS[0]?.length as number,
      inputIds: Int32Array.from(ROWS.flat()),
      attentionMask: new Uint8Array(ROWS.flat().length).fill(1),
    };
    const otherHead = (head + 1) % model.config.numHeads;
    const input = JSON.stringify({ input_ids: ROWS, attention_mask: ROWS.map((r) => r.map(() => 1)) });
    const reference = JSON.parse(runPython('head_mask.py', [dir, String(layer), String(head), String(otherHead)], { input })) as {
      clean: number[];
      masked: number[][];
    };
    const clean = await model.predict(batch);
    const report = await corrupt(model, { method: 'zero', targets: { layers: layer, heads: head } }, { seed: 0 });
    t.is(report.heads?.length, 1);
    const zeroed = await model.predict(batch);
    const [masked, other] = reference.masked as [number[], number[]];
    t.true(maxAbsDiff(clean, reference.clean) < TOLERANCE, `clean logits differ by ${maxAbsDiff(clean, reference.clean)}`);
    const diff = maxAbsDiff(zeroed, masked);
    t.true(diff < TOLERANCE, `zeroed head: max |healbert - transformers| = ${diff}`);
    t.true(maxAbsDiff(zeroed, clean) > 100 * TOLERANCE, 'the head matters to these logits');
    t.true(maxAbsDiff(zeroed, other) > 100 * TOLERANCE, 'masking another head gives other logits');
    model.dispose();
  });
}
