/** The data a cell trains and evaluates on: tokenized with the model's tokenizer (cached on disk). */
import { seededRandom, shuffleInPlace } from '../data/random.js';
import { getTask, type Task } from '../data/tasks.js';
import { tokenizeSplit } from '../data/tokenize-split.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import { HealbertError } from '../errors.js';
import { hasTokenizerFiles, TOKENIZER_ENTRY_FILES } from '../tokenizer/files.js';
import { loadTokenizer } from '../tokenizer/load.js';
import type { CellConfig } from './types.js';

export interface CellData {
  task: Task;
  train: TokenizedDataset;
  eval: TokenizedDataset;
  /** Number of classes (1 for regression). */
  numLabels: number;
}

/** Examples `indices` of a dataset, as a dataset of their own. */
export function subsetDataset(d: TokenizedDataset, indices: ArrayLike<number>): TokenizedDataset {
  const offsets = new Int32Array(indices.length + 1);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    offsets[k + 1] = (offsets[k] as number) + ((d.offsets[i + 1] as number) - (d.offsets[i] as number));
  }
  const ids = new Int32Array(offsets[indices.length] as number);
  const typeIds = new Uint8Array(ids.length);
  const labels = d.labels ? new (d.labels.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    const [from, to] = [d.offsets[i] as number, d.offsets[i + 1] as number];
    ids.set(d.ids.subarray(from, to), offsets[k] as number);
    typeIds.set(d.typeIds.subarray(from, to), offsets[k] as number);
    if (labels && d.labels) labels[k] = d.labels[i] as number;
  }
  return { ...d, size: indices.length, ids, typeIds, offsets, labels };
}

/** Which n of `size` examples a fixed subset keeps: the first n after a seeded shuffle, in file order. */
export function subsetIndices(size: number, n: number, seed: number): Int32Array {
  if (n >= size) return Int32Array.from({ length: size }, (_, i) => i);
  const order = shuffleInPlace(
    Int32Array.from({ length: size }, (_, i) => i),
    seededRandom(seed, 0x5eed),
  );
  return order.subarray(0, n).sort();
}

/** The same subset for every cell with the same task entry. */
export function fixedSubset(d: TokenizedDataset, n: number, seed: number): TokenizedDataset {
  return n >= d.size ? d : subsetDataset(d, subsetIndices(d.size, n, seed));
}

export async function loadCellData(config: CellConfig): Promise<CellData> {
  const task = getTask(config.task.name);
  if (!hasTokenizerFiles(config.model.path)) {
    throw new HealbertError(
      'ERR_CONFIG',
      `model ${config.model.name}: ${config.model.path} has no tokenizer files (${TOKENIZER_ENTRY_FILES.join(', ')})`,
    );
  }
  const tokenizer = await loadTokenizer(config.model.path);
  const load = (split: string) => tokenizeSplit({ tokenizer, task, dataRoot: config.task.data, split, maxLength: config.recipe.maxLength });
  const [train, evaluation] = await Promise.all([load('train'), load(config.task.evalSplit)]);
  if (!train.dataset.labels || !evaluation.dataset.labels)
    throw new HealbertError('ERR_DATA', `${task.name}: the train and evaluation splits need labels`);
  const trainSet = config.task.trainExamples
    ? fixedSubset(train.dataset, config.task.trainExamples, config.task.subsetSeed)
    : train.dataset;
  const evalSet = config.task.evalExamples
    ? fixedSubset(evaluation.dataset, config.task.evalExamples, config.task.subsetSeed + 1)
    : evaluation.dataset;
  return { task, train: trainSet, eval: evalSet, numLabels: task.isRegression ? 1 : task.labelNames.length };
}
