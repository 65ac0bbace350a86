import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../../src/model/model.js';
import { packageRoot } from '../../src/native/binding.js';
import { tempDir } from './checkpoints.js';
import { fixturesDir } from './fixtures.js';

export const demoGlue = join(packageRoot, 'demo', 'data');

/** A tiny BERT (random weights) with the bert-base-uncased tokenizer, saved as a Hugging Face folder. */
export async function makeTinyModel(layers = 2): Promise<string> {
  const dir = join(tempDir('healbert-tiny-'), 'tiny-bert');
  const model = await Model.fromConfig(
    {
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: layers,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 128,
      type_vocab_size: 2,
    },
    { seed: 7 },
  );
  await model.save(dir);
  model.dispose();
  mkdirSync(dir, { recursive: true });
  for (const f of ['vocab.txt', 'tokenizer_config.json'])
    copyFileSync(join(fixturesDir, 'tokenizer', 'models', 'bert-base-uncased', f), join(dir, f));
  return dir;
}

/** A small sweep over real SST-2 rows (64 for training, 64 of dev) with cheap recipes: 8 cells. */
export function tinySpec(model: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'tiny',
    models: [{ name: 'tiny', path: model }],
    tasks: [{ name: 'sst2', data: demoGlue, trainExamples: 64, evalExamples: 64 }],
    corruptions: [
      { method: 'reinit', targets: { layers: 'bottom:1' } },
      { method: 'gaussian', level: 0.5, relative: true, label: 'noise', vary: { 'targets.layers': ['bottom:1', 'top:1'] }, targets: {} },
    ],
    seeds: [0, 1],
    recipe: { epochs: 2, batchSize: 16, maxLength: 48, lr: 1e-3, evalBatchSize: 64 },
    probe: { epochs: 5 },
    ...extra,
  };
}
