/**
 * Hugging Face checkpoint folders: which weight files a folder holds, how checkpoint keys map onto the
 * engine's parameters, and the load plan (which bytes of which file go into which parameter). Everything
 * is validated here, before the engine reads a byte: names, shapes and dtypes against the config.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import type { NativeParamSpec } from '../native/binding.js';
import type { Architecture } from './config.js';
import { family } from './families/index.js';
import { readSafetensorsHeader, type TensorEntry, WEIGHT_DTYPES } from './safetensors.js';

/**
 * How to convert a pickled checkpoint, with the command on a line of its own so that it can be pasted as is.
 * clone() gives tied tensors (a masked-LM decoder and the word embeddings) storage of their own, which
 * save_file requires; a sharded checkpoint's shards are merged into one file.
 */
function convertHint(pickle: string): string {
  const load =
    pickle === 'pytorch_model.bin'
      ? "sd = torch.load('pytorch_model.bin', map_location='cpu', weights_only=True); "
      : "sd = {k: v for f in sorted(set(json.load(open('pytorch_model.bin.index.json'))['weight_map'].values())) " +
        "for k, v in torch.load(f, map_location='cpu', weights_only=True).items()}; ";
  return (
    'healbert reads only safetensors, because unpickling a .bin file can run arbitrary code. Convert it once with ' +
    "PyTorch's safe loader, by running this in the model folder:\n" +
    `  python3 -c "import json, torch; from safetensors.torch import save_file; ${load}` +
    "save_file({k: v.clone().contiguous() for k, v in sd.items()}, 'model.safetensors', metadata={'format': 'pt'})\"\n" +
    'or load the model in transformers and save_pretrained() it (safetensors is its default format).'
  );
}

/** The safetensors files of a model folder (one file, or the shards listed by the index). */
export async function locateWeightFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) throw new HealbertError('ERR_CHECKPOINT', `${dir}: no such model folder`);
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (error) {
      throw new HealbertError('ERR_CHECKPOINT', `${indexPath}: not valid JSON (${(error as Error).message})`);
    }
    const map = index.weight_map;
    if (!map || typeof map !== 'object') throw new HealbertError('ERR_CHECKPOINT', `${indexPath}: no "weight_map" object`);
    const files = [...new Set(Object.values(map))];
    for (const file of files) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
        throw new HealbertError('ERR_CHECKPOINT', `${indexPath}: weight_map names ${JSON.stringify(file)}, not a file in the folder`);
      }
      if (!existsSync(join(dir, file))) throw new HealbertError('ERR_CHECKPOINT', `${indexPath}: shard ${file} is missing from ${dir}`);
    }
    return files.map((f) => join(dir, f));
  }
  for (const pickle of ['pytorch_model.bin', 'pytorch_model.bin.index.json']) {
    if (existsSync(join(dir, pickle)))
      throw new HealbertError('ERR_CHECKPOINT', `${dir} holds ${pickle} but no model.safetensors. ${convertHint(pickle)}`);
  }
  for (const other of ['tf_model.h5', 'flax_model.msgpack']) {
    if (existsSync(join(dir, other))) {
      throw new HealbertError(
        'ERR_CHECKPOINT',
        `${dir} holds ${other} (TensorFlow/Flax weights); convert it to model.safetensors with transformers first`,
      );
    }
  }
  throw new HealbertError('ERR_CHECKPOINT', `${dir}: no model.safetensors or model.safetensors.index.json`);
}

/**
 * The engine's name for a checkpoint key: base models saved without their prefix ("encoder.layer.0...")
 * get it, and TensorFlow-era LayerNorm names (gamma/beta) become weight/bias, as transformers does.
 */
export function canonicalName(key: string, arch: Architecture): string {
  const f = family(arch);
  let name = key.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  if (f.bareRoots.some((root) => name.startsWith(root))) name = `${f.prefix}.${name}`;
  return name;
}

/** One tensor of a weight file and the parameter it fills. */
export interface LoadEntry {
  index: number;
  dtype: 'float32' | 'float16' | 'bfloat16';
  offset: number;
  nbytes: number;
}

/** How a checkpoint maps onto a model's parameters: what each weight file fills, what is initialised fresh, what is ignored. */
export interface LoadPlan {
  /** Per weight file, what to copy into which parameter. */
  files: { path: string; entries: LoadEntry[] }[];
  /** Parameters not in the checkpoint, left at their fresh Hugging Face initialisation (task heads, a missing pooler). */
  initialised: string[];
  /** Checkpoint tensors a classification model does not use (pre-training heads, buffers). */
  ignored: string[];
  /** Checkpoint tensors healbert does not recognise; reported, as transformers does, not loaded. */
  unexpected: string[];
  /** Head tensors in the checkpoint that were replaced by a fresh head (newHead, or a different label count allowed). */
  replacedHead: string[];
  /** What the ignored tensors were, where the family says (e.g. an ELECTRA folder's generator head). */
  notes: string[];
}

export interface PlanOptions {
  /** Discard the checkpoint's task head and initialise a fresh one (e.g. to fine-tune on another task). */
  newHead?: boolean;
  /**
   * The checkpoint key each parameter loads from, aligned with the layout (src/model/layout.ts:
   * checkpointNames); default its own name. Several parameters may load one key (untied ALBERT layers).
   */
  sourceNames?: string[];
}

/** Matches checkpoint tensors to the engine's parameters; throws ERR_CHECKPOINT naming the first problem. */
export async function planLoad(
  files: string[],
  arch: Architecture,
  layout: NativeParamSpec[],
  options: PlanOptions = {},
): Promise<LoadPlan> {
  const fam = family(arch);
  const sources = options.sourceNames ?? layout.map((p) => p.name);
  const indicesOf = new Map<string, number[]>();
  for (const [i, name] of sources.entries()) indicesOf.set(name, [...(indicesOf.get(name) ?? []), i]);
  const found = new Map<string, { entry: TensorEntry; path: string }>();
  const plan: LoadPlan = { files: [], initialised: [], ignored: [], unexpected: [], replacedHead: [], notes: [] };
  const noted = new Set<string>();
  for (const path of files) {
    const header = await readSafetensorsHeader(path);
    const entries: LoadEntry[] = [];
    for (const entry of header.tensors.values()) {
      const name = canonicalName(entry.name, arch);
      const indices = indicesOf.get(name);
      if (indices === undefined) {
        if (fam.ignored.some((re) => re.test(entry.name))) plan.ignored.push(entry.name);
        else plan.unexpected.push(entry.name);
        for (const { pattern, note } of fam.notes ?? []) if (pattern.test(entry.name)) noted.add(note);
        continue;
      }
      if (found.has(name)) {
        throw new HealbertError(
          'ERR_CHECKPOINT',
          `${path}: tensor "${entry.name}" also appears in ${found.get(name)?.path} (as "${found.get(name)?.entry.name}")`,
        );
      }
      found.set(name, { entry, path });
      const spec = layout[indices[0] as number] as NativeParamSpec;
      if (spec.isHead && options.newHead) {
        plan.replacedHead.push(entry.name);
        continue;
      }
      const dtype = WEIGHT_DTYPES[entry.dtype];
      if (!dtype) {
        throw new HealbertError('ERR_CHECKPOINT', `${path}: tensor "${entry.name}" is ${entry.dtype}; weights must be F32, F16 or BF16`);
      }
      if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
        const hint = spec.isHead
          ? ` The checkpoint's task head has a different number of labels; pass numLabels matching it, or newHead: true (CLI: --new-head) to start a fresh head.`
          : ' The checkpoint does not match its config.json.';
        throw new HealbertError(
          'ERR_CHECKPOINT',
          `${path}: tensor "${entry.name}" has shape [${entry.shape.join(', ')}], but the config needs [${spec.shape.join(', ')}].${hint}`,
        );
      }
      for (const index of indices) entries.push({ index, dtype, offset: entry.offset, nbytes: entry.nbytes });
    }
    if (entries.length > 0) plan.files.push({ path, entries });
  }
  plan.notes = [...noted];
  for (const [i, spec] of layout.entries()) {
    if (found.has(sources[i] as string) && !(spec.isHead && options.newHead)) continue;
    if (spec.isHead || spec.component === 'pooler') {
      plan.initialised.push(spec.name);
      continue;
    }
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${files.join(', ')}: tensor "${sources[i]}" (shape [${spec.shape.join(', ')}]) is missing; is this a ${arch} checkpoint matching its config.json?`,
    );
  }
  return plan;
}
