/**
 * Sweep specs: read from JSON or YAML, validated once with a JSON Schema (defaults filled in, unknown keys
 * rejected with the path of the field), then checked against the world before any work starts: tasks
 * exist, data and model folders exist, every corruption fits every model.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { corruptionSpecSchema, describeSchemaError, type TargetSpec } from '../corruption/spec.js';
import { resolveTargets, type TargetParameter } from '../corruption/targets.js';
import { getTask, resolveSplit } from '../data/tasks.js';
import type { DtypeChoice } from '../dtype/choose.js';
import { HealbertError } from '../errors.js';
import { measureSpecSchema, type ResolvedMeasure, resolveMeasure } from '../measure/spec.js';
import { engineConfig, readRawConfig } from '../model/config.js';
import { type FamilyName, family } from '../model/families/index.js';
import { layoutOf } from '../model/layout.js';
import type { ModelRef, ProbeRecipe, Protocol, Recipe, Recovery, SweepSpec, TaskRef } from './types.js';

export const DEFAULT_RECIPE: Recipe = {
  lr: 2e-5,
  batchSize: 32,
  epochs: 3,
  maxLength: 128,
  warmupRatio: 0,
  weightDecay: 0,
  maxGradNorm: 1,
  evalBatchSize: 128,
};
/** groupByLength: false is the default and stays out of the config, so it does not change cell ids. */
function withoutFalseGrouping(recipe: Recipe): Recipe {
  const { groupByLength, ...rest } = recipe;
  return groupByLength ? { ...rest, groupByLength } : rest;
}

export const DEFAULT_PROBE: ProbeRecipe = { epochs: 30, lr: 1e-2, batchSize: 256, l2: 1e-4 };
export const DEFAULT_RECOVERY: Recovery = {
  freezeUncorrupted: false,
  layerDecay: 1,
  corruptedLrMultiplier: 1,
  mlmSteps: 0,
  mlmLr: 1e-4,
  healEpochs: 1,
};

const corruptionEntry = {
  type: 'object',
  required: ['method', 'targets'],
  properties: {
    ...corruptionSpecSchema.properties,
    label: { type: 'string', minLength: 1 },
    vary: { type: 'object', additionalProperties: { type: 'array', minItems: 1 } },
    zip: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

const corruptionEntrySchema = corruptionEntry;
const { $id: _measureId, ...measureSchema } = measureSpecSchema;

export const sweepSpecSchema = {
  $id: 'healbert/sweep-spec',
  type: 'object',
  additionalProperties: false,
  required: ['models', 'tasks'],
  properties: {
    name: { type: 'string', minLength: 1 },
    protocol: { enum: ['pretrained', 'finetuned'], default: 'pretrained' },
    models: {
      type: 'array',
      minItems: 1,
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            properties: {
              name: { type: 'string' },
              path: { type: 'string', minLength: 1 },
              untieLayers: { type: 'boolean' },
            },
          },
        ],
      },
    },
    tasks: {
      type: 'array',
      minItems: 1,
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              name: { type: 'string' },
              data: { type: 'string' },
              trainExamples: { type: 'integer', minimum: 1 },
              evalExamples: { type: 'integer', minimum: 1 },
              subsetSeed: { type: 'integer', minimum: 0 },
              evalSplit: { type: 'string' },
            },
          },
        ],
      },
    },
    corruptions: { type: 'array', items: corruptionEntrySchema },
    seeds: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 }, default: [0] },
    recipe: {
      type: 'object',
      additionalProperties: false,
      properties: {
        lr: { type: 'number', exclusiveMinimum: 0 },
        batchSize: { type: 'integer', minimum: 1 },
        epochs: { type: 'integer', minimum: 1 },
        maxLength: { type: 'integer', minimum: 8 },
        warmupRatio: { type: 'number', minimum: 0, maximum: 1 },
        weightDecay: { type: 'number', minimum: 0 },
        maxGradNorm: { type: 'number', minimum: 0 },
        evalBatchSize: { type: 'integer', minimum: 1 },
        groupByLength: { type: 'boolean' },
      },
    },
    probe: {
      type: 'object',
      additionalProperties: false,
      properties: {
        epochs: { type: 'integer', minimum: 1 },
        lr: { type: 'number', exclusiveMinimum: 0 },
        batchSize: { type: 'integer', minimum: 1 },
        l2: { type: 'number', minimum: 0 },
      },
    },
    recovery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        freezeUncorrupted: { type: 'boolean' },
        layerDecay: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        corruptedLrMultiplier: { type: 'number', exclusiveMinimum: 0 },
        mlmSteps: { type: 'integer', minimum: 0 },
        mlmCorpus: { type: 'string' },
        mlmLr: { type: 'number', exclusiveMinimum: 0 },
        healEpochs: { type: 'integer', minimum: 1 },
      },
    },
    measure: measureSchema,
    device: { type: 'string', default: 'cpu' },
    fleet: { anyOf: [{ type: 'integer', minimum: 1, maximum: 256 }, { const: 'auto' }] },
    dtype: { enum: ['float32', 'bfloat16', 'auto'], default: 'float32' },
    cells: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['corruption', 'seed'],
        properties: {
          model: { type: 'string' },
          task: { type: 'string' },
          corruption: { anyOf: [{ type: 'null' }, corruptionEntrySchema] },
          seed: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });
const validate = ajv.compile(sweepSpecSchema);

/** A spec with every default filled in and paths made absolute. */
export interface ResolvedSweepSpec {
  name: string;
  protocol: Protocol;
  models: ModelRef[];
  tasks: TaskRef[];
  corruptions: SweepSpec['corruptions'] & object;
  seeds: number[];
  recipe: Recipe;
  probe: ProbeRecipe;
  recovery: Recovery;
  /** What every cell measures beyond its scores (src/measure); absent when nothing is (cell ids unchanged). */
  measure?: ResolvedMeasure;
  device: string;
  /** Cells trained together per step (src/sweep/fleet.ts); not part of any cell id. */
  fleet: number | 'auto';
  /** 'auto' until runSweep resolves it (src/sweep/dtype.ts); cells always hold a concrete dtype. */
  dtype: DtypeChoice;
  cells?: SweepSpec['cells'];
}

/** Reads a spec file (.json, .yaml or .yml); relative paths inside it are relative to the file. */
export async function readSweepSpec(path: string): Promise<{ spec: unknown; baseDir: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HealbertError('ERR_CONFIG', `${path}: cannot read the sweep spec (${(error as Error).message})`);
  }
  try {
    const spec = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
    return { spec, baseDir: dirname(resolve(path)) };
  } catch (error) {
    throw new HealbertError('ERR_CONFIG', `${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'} (${(error as Error).message})`);
  }
}

/** Validates the spec's shape and fills defaults (ERR_CONFIG with the path of the first bad field). */
export function resolveSweepSpec(input: unknown, baseDir = process.cwd()): ResolvedSweepSpec {
  const spec = structuredClone(input) as SweepSpec;
  if (!validate(spec))
    throw new HealbertError('ERR_CONFIG', describeSchemaError((validate.errors as ErrorObject[])[0] as ErrorObject, 'spec'));
  const abs = (p: string) => (isAbsolute(p) ? p : join(baseDir, p));
  const models = spec.models.map((m, i): ModelRef => {
    const path = typeof m === 'string' ? m : (m.path as string);
    const name = typeof m === 'string' ? basename(m) : (m.name ?? basename(path));
    if (!name) throw new HealbertError('ERR_CONFIG', `spec.models[${i}]: cannot derive a name`);
    return { name, path: abs(path), ...(typeof m !== 'string' && m.untieLayers ? { untieLayers: true } : {}) };
  });
  const tasks = spec.tasks.map((t, i): TaskRef => {
    const entry = typeof t === 'string' ? { name: t } : t;
    if (!entry.data)
      throw new HealbertError('ERR_CONFIG', `spec.tasks[${i}].data: the data folder is required (e.g. {"name": "sst2", "data": "./glue"})`);
    const task = (() => {
      try {
        return getTask(entry.name as string);
      } catch (error) {
        throw new HealbertError('ERR_CONFIG', `spec.tasks[${i}].name: ${(error as Error).message}`);
      }
    })();
    const evalSplit = (() => {
      try {
        return resolveSplit(task, entry.evalSplit ?? ('dev' in task.splits || 'dev' in task.splitAliases ? 'dev' : 'validation'));
      } catch (error) {
        throw new HealbertError('ERR_CONFIG', `spec.tasks[${i}].evalSplit: ${(error as Error).message}`);
      }
    })();
    return {
      name: task.name,
      data: abs(entry.data),
      ...(entry.trainExamples ? { trainExamples: entry.trainExamples } : {}),
      ...(entry.evalExamples ? { evalExamples: entry.evalExamples } : {}),
      subsetSeed: entry.subsetSeed ?? 0,
      evalSplit,
    };
  });
  for (const [kind, list] of [
    ['models', models],
    ['tasks', tasks],
  ] as const) {
    const names = list.map((x) => x.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new HealbertError('ERR_CONFIG', `spec.${kind}: the name "${dup}" appears twice; give entries distinct names`);
  }
  const recovery = { ...DEFAULT_RECOVERY, ...spec.recovery };
  if (recovery.mlmSteps > 0 && !recovery.mlmCorpus)
    throw new HealbertError('ERR_CONFIG', 'spec.recovery.mlmCorpus: MLM healing needs a corpus');
  if (recovery.mlmCorpus) recovery.mlmCorpus = abs(recovery.mlmCorpus);
  const measure = resolveMeasure(spec.measure);
  return {
    name: spec.name ?? 'sweep',
    protocol: spec.protocol ?? 'pretrained',
    models,
    tasks,
    corruptions: spec.corruptions ?? [],
    seeds: spec.seeds ?? [0],
    recipe: withoutFalseGrouping({ ...DEFAULT_RECIPE, ...spec.recipe }),
    probe: { ...DEFAULT_PROBE, ...spec.probe },
    recovery,
    ...(measure ? { measure } : {}),
    device: spec.device ?? 'cpu',
    fleet: spec.fleet ?? 'auto',
    dtype: spec.dtype ?? 'float32',
    ...(spec.cells ? { cells: spec.cells } : {}),
  };
}

/** The parameter list of a model folder, without loading its weights. */
export async function modelParameters(
  path: string,
  options: { untieLayers?: boolean } = {},
): Promise<{ params: TargetParameter[]; numLayers: number; numHeads: number; numNeurons: number; arch: FamilyName }> {
  const raw = await readRawConfig(path);
  const config = engineConfig(raw, join(path, 'config.json'), options);
  return {
    params: layoutOf(config),
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numNeurons: config.intermediateSize,
    arch: config.arch,
  };
}

/**
 * Everything that can be checked before work starts: folders exist, every corruption spec is valid and
 * selects parameters that exist in every model. `corruptions` are the expanded specs with their paths
 * in the spec (for messages).
 */
export async function checkSweepWorld(
  spec: ResolvedSweepSpec,
  corruptions: { spec: { targets: TargetSpec }; path: string }[],
): Promise<void> {
  for (const [i, task] of spec.tasks.entries()) {
    if (!existsSync(task.data)) throw new HealbertError('ERR_CONFIG', `spec.tasks[${i}].data: folder ${task.data} does not exist`);
  }
  for (const [i, model] of spec.models.entries()) {
    if (!existsSync(join(model.path, 'config.json')))
      throw new HealbertError('ERR_CONFIG', `spec.models[${i}]: ${model.path} has no config.json`);
    let layout: Awaited<ReturnType<typeof modelParameters>>;
    try {
      layout = await modelParameters(model.path, model.untieLayers ? { untieLayers: true } : {});
    } catch (error) {
      throw new HealbertError('ERR_CONFIG', `spec.models[${i}]: ${(error as Error).message}`);
    }
    // The specs were validated when the sweep was expanded; here their targets meet each model.
    for (const c of corruptions) resolveTargets(c.spec.targets, layout.params, layout.numLayers, `${c.path}.targets`, layout);
  }
  if (spec.recovery.mlmSteps > 0) {
    for (const [i, model] of spec.models.entries()) {
      const layout = await modelParameters(model.path);
      if (!family(layout.arch).names.mlm)
        throw new HealbertError(
          'ERR_CONFIG',
          `spec.recovery.mlmSteps: MLM healing needs a model with healbert's masked-LM head (BERT); spec.models[${i}] is ${layout.arch}${layout.arch === 'electra' ? ', and an ELECTRA discriminator has no masked-LM head' : ''}`,
        );
    }
    if (!existsSync(spec.recovery.mlmCorpus as string))
      throw new HealbertError('ERR_CONFIG', `spec.recovery.mlmCorpus: ${spec.recovery.mlmCorpus} does not exist`);
  }
}
