/**
 * Export of the families beyond BERT to transformers itself (test/python/roundtrip.py, the pip-torch lane):
 * a model healbert corrupted (layers, heads) and saved loads in AutoModelForSequenceClassification with no
 * missing or unexpected keys and gives healbert's outputs, and the saved folder differs from the clean one in
 * the targeted tensors only. ALBERT both as it is (a component of its shared group) and untied (one layer);
 * DeBERTa-v2/v3 (heads, the relative embeddings and encoder LayerNorm, a layer) and ModernBERT (heads across
 * Wqkv, GLU neurons, a layer and the final norm).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../../src/batch.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import { Model } from '../../src/model/model.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixturesDir, maxAbsDiff, readTensors } from '../helpers/fixtures.js';
import { noteWhenSkipped, runPython, transformersTest } from '../helpers/python.js';

noteWhenSkipped('export of ELECTRA, ALBERT and XLM-RoBERTa to transformers');

const config = (name: string) => JSON.parse(readFileSync(join(fixturesDir, 'configs', `${name}.json`), 'utf8'));

interface Case {
  name: string;
  config: string;
  untieLayers?: boolean;
  spec: CorruptionSpec;
  /** The first and last special ids, the pad id, whether rows carry two segments. */
  ids: { first: number; last: number; pad: number; tokenTypes: boolean };
}

const BERT_IDS = { first: 2, last: 3, pad: 0, tokenTypes: true };
const CASES: Case[] = [
  {
    name: 'ELECTRA, bottom layer re-initialised',
    config: 'electra-tiny',
    spec: { method: 'reinit', targets: { layers: 'bottom:1' } },
    ids: BERT_IDS,
  },
  {
    name: 'ELECTRA, one head zeroed in every layer',
    config: 'electra-tiny',
    spec: { method: 'zero', targets: { layers: 'all', heads: 2 } },
    ids: BERT_IDS,
  },
  {
    name: 'ALBERT, the shared FFN under noise',
    config: 'albert-tiny',
    spec: { method: 'gaussian', level: 0.05, targets: { layers: 'all', components: ['ffn'] } },
    ids: BERT_IDS,
  },
  {
    name: 'ALBERT untied, layer 1 re-initialised',
    config: 'albert-tiny',
    untieLayers: true,
    spec: { method: 'reinit', targets: { layers: 1 } },
    ids: BERT_IDS,
  },
  {
    name: 'XLM-RoBERTa, top layer re-initialised',
    config: 'xlm-roberta-tiny',
    spec: { method: 'reinit', targets: { layers: 'top:1' } },
    ids: { first: 0, last: 2, pad: 1, tokenTypes: false },
  },
  {
    name: 'DeBERTa-v3, one head under noise in every layer (its query and key rows also project the positions)',
    config: 'deberta-v3-tiny',
    spec: { method: 'gaussian', level: 0.1, targets: { layers: 'all', heads: 1 } },
    ids: { first: 1, last: 2, pad: 0, tokenTypes: false },
  },
  {
    name: 'DeBERTa-v3, relative embeddings and the encoder LayerNorm under noise',
    config: 'deberta-v3-tiny',
    spec: { method: 'gaussian', level: 0.1, targets: { include: ['rel_embeddings', 'encoder.layernorm'] } },
    ids: { first: 1, last: 2, pad: 0, tokenTypes: false },
  },
  {
    name: 'DeBERTa-v2 (own position projections, token types), bottom layer re-initialised',
    config: 'deberta-v2-tiny',
    spec: { method: 'reinit', targets: { layers: 'bottom:1' } },
    ids: { first: 1, last: 2, pad: 0, tokenTypes: true },
  },
  {
    name: 'ModernBERT, one head zeroed in every layer (three row runs of Wqkv)',
    config: 'modernbert-tiny',
    spec: { method: 'zero', targets: { layers: 'all', heads: 2 } },
    ids: { first: 1, last: 2, pad: 0, tokenTypes: false },
  },
  {
    name: 'ModernBERT with mean pooling and biases, GLU neurons zeroed in layer 1 (input and gate rows)',
    config: 'modernbert-tiny-mean',
    spec: { method: 'zero', targets: { layers: 1, neurons: '0-7' } },
    ids: { first: 1, last: 2, pad: 0, tokenTypes: false },
  },
  {
    name: 'ModernBERT, the final norm and the top layer re-initialised',
    config: 'modernbert-tiny',
    spec: { method: 'reinit', targets: { layers: 'top:1', include: ['encoder.layernorm'] } },
    ids: { first: 1, last: 2, pad: 0, tokenTypes: false },
  },
];

/** Three rows of ids in [5, 97), special tokens where tokenizers put them, one row padded. */
function batchFor(ids: Case['ids']): Batch {
  const rows = [
    [11, 12, 13, 14, 15, 16, 17],
    [40, 41, 42],
    [70, 71, 72, 73, 74, 75, 76],
  ];
  const seqLen = 9;
  const n = rows.length * seqLen;
  const b: Batch = { batchSize: rows.length, seqLen, inputIds: new Int32Array(n).fill(ids.pad), attentionMask: new Uint8Array(n) };
  const types = new Int32Array(n);
  rows.forEach((row, r) => {
    [ids.first, ...row, ids.last].forEach((id, k) => {
      b.inputIds[r * seqLen + k] = id;
      (b.attentionMask as Uint8Array)[r * seqLen + k] = 1;
      types[r * seqLen + k] = k > row.length / 2 ? 1 : 0;
    });
  });
  if (ids.tokenTypes) b.tokenTypeIds = types;
  return b;
}

const rowsOf = (b: Batch, a: ArrayLike<number>) =>
  Array.from({ length: b.batchSize }, (_, r) => Array.from(a).slice(r * b.seqLen, (r + 1) * b.seqLen));

interface Written {
  dir: string;
  logits: number[];
  changed: string[];
  expected: string[];
  corrupted: number;
  batch: Record<string, number[][]>;
}

/** One case: corrupt, save, and record what changed against the clean weights in the same layout. */
async function write(c: Case): Promise<Written> {
  const clean = tempDir('healbert-family-clean-');
  const source = await Model.fromConfig({ ...config(c.config), num_labels: 3 }, { seed: 4 });
  await source.save(clean);
  source.dispose();
  const model = await Model.load(clean, c.untieLayers ? { untieLayers: true } : {});
  const untouched = tempDir('healbert-family-untouched-');
  await model.save(untouched); // the clean weights in the layout being corrupted (untied or not)
  const report = await corrupt(model, c.spec, { seed: 9 });
  const dir = tempDir('healbert-family-out-');
  await model.save(dir);
  const b = batchFor(c.ids);
  const logits = Array.from(await model.predict(b));
  model.dispose();
  const before = readTensors(join(untouched, 'model.safetensors')).tensors;
  const after = readTensors(join(dir, 'model.safetensors')).tensors;
  return {
    dir,
    logits,
    changed: [...after.keys()].filter((name) => maxAbsDiff(after.get(name)?.data ?? [], before.get(name)?.data ?? []) > 0).sort(),
    // Targets whose values the corruption changed (re-initialising a zero bias to zero changes nothing).
    expected: report.tensors
      .filter((x) => x.changed !== 0)
      .map((x) => x.name)
      .sort(),
    corrupted: report.tensors.length,
    batch: {
      input_ids: rowsOf(b, b.inputIds),
      attention_mask: rowsOf(b, b.attentionMask as Uint8Array),
      ...(b.tokenTypeIds ? { token_type_ids: rowsOf(b, b.tokenTypeIds) } : {}),
    },
  };
}

/** Every case written, then one transformers process runs them all (its start is most of the time). */
let all: Promise<{ written: Written[]; reference: { logits?: number[]; class?: string; error?: string }[] }> | undefined;
const everything = () => {
  all ??= (async () => {
    const written: Written[] = [];
    for (const c of CASES) written.push(await write(c));
    const reference = JSON.parse(
      runPython('roundtrip.py', ['load-and-run', '--keep-going', ...written.flatMap((w) => [w.dir, 'sequence-classification'])], {
        input: JSON.stringify(written.map((w) => w.batch)),
      }),
    );
    return { written, reference };
  })();
  return all;
};

for (const [i, c] of CASES.entries()) {
  transformersTest(`healbert -> transformers: ${c.name}: loads, gives healbert's outputs, and only the targets changed`, async (t) => {
    const { written, reference } = await everything();
    const w = written[i] as Written;
    const r = reference[i];
    if (!r || r.error) return void t.fail(r?.error ?? 'no reference');
    t.deepEqual(w.changed, w.expected);
    t.true(w.changed.length > 0);
    const diff = maxAbsDiff(w.logits, r.logits ?? []);
    t.log(`${r.class}: ${w.corrupted} tensors corrupted, ${w.changed.length} changed; max |logit diff| ${diff.toExponential(2)}`);
    t.true(diff <= 1e-5, `logits differ by ${diff}`);
  });
}
