/**
 * What a cell measures beyond its scores (spec `measure: {...}`; `--measure` on run and demo), opt-in:
 *
 *   cka      representation similarity by layer: linear CKA (or its debiased estimator) of every layer's
 *            pooled representations of a fixed subset of the evaluation split, before healing against the
 *            model before corruption, after healing against the clean fine-tuned model (measure/cell.ts)
 *   weights  per layer and component: relative L2 distance and cosine of the healed weights to the
 *            pre-trained weights and to the clean fine-tuned model's; for re-initialised tensors whether
 *            healing moves them back toward the originals; update norms per layer per epoch
 *   mlm      knowledge beyond the task: held-out MLM loss and accuracy of the encoder under the checkpoint's
 *            own MLM head, before corruption, after corruption and after healing
 *
 * The resolved measure is part of a cell's config (and so of its id) only when set: specs without it keep
 * the ids they had, and their result folders resume.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { describeSchemaError } from '../corruption/spec.js';
import { HealbertError } from '../errors.js';
import type { CellConfig } from '../sweep/types.js';
import type { CkaEstimator } from './cka.js';

export const DEFAULT_MEASURE_EXAMPLES = 512;

export interface MeasureSpec {
  cka?: boolean | { examples?: number; estimator?: CkaEstimator };
  weights?: boolean;
  mlm?: boolean | { examples?: number };
}

/** A measure with its defaults filled in; kinds that are off are absent. */
export interface ResolvedMeasure {
  cka?: { examples: number; estimator: CkaEstimator };
  weights?: true;
  mlm?: { examples: number };
}

const examples = { type: 'integer', minimum: 4 } as const;

// `true` or an object of options: one schema for both (properties apply to objects only), so that an error
// names the field inside the object rather than an anyOf branch.
export const measureSpecSchema = {
  $id: 'healbert/measure-spec',
  type: 'object',
  additionalProperties: false,
  properties: {
    cka: {
      type: ['boolean', 'object'],
      additionalProperties: false,
      properties: { examples, estimator: { enum: ['linear', 'debiased'] } },
    },
    weights: { type: 'boolean' },
    mlm: { type: ['boolean', 'object'], additionalProperties: false, properties: { examples } },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const validate = ajv.compile(measureSpecSchema);

/** Validates a measure spec (ERR_CONFIG naming the field under `root`) and fills its defaults; undefined when nothing is on. */
export function resolveMeasure(input: unknown, root = 'spec.measure'): ResolvedMeasure | undefined {
  if (input === undefined) return undefined;
  if (!validate(input))
    throw new HealbertError('ERR_CONFIG', describeSchemaError((validate.errors as ErrorObject[])[0] as ErrorObject, root));
  const spec = input as MeasureSpec;
  const out: ResolvedMeasure = {};
  if (spec.cka) {
    const o = spec.cka === true ? {} : spec.cka;
    out.cka = { examples: o.examples ?? DEFAULT_MEASURE_EXAMPLES, estimator: o.estimator ?? 'linear' };
  }
  if (spec.weights) out.weights = true;
  if (spec.mlm) out.mlm = { examples: (spec.mlm === true ? undefined : spec.mlm.examples) ?? DEFAULT_MEASURE_EXAMPLES };
  return Object.keys(out).length > 0 ? out : undefined;
}

export const MEASURE_KINDS = ['cka', 'weights', 'mlm'] as const;

/**
 * `--measure cka,weights,mlm` (or `none`) with `--cka-examples` / `--cka-estimator`: the spec's measure
 * object, validated by resolveMeasure like a spec's. ERR_CONFIG naming the flag for an unknown kind.
 */
export function measureFromFlags(list: string | undefined, cka: { examples?: number; estimator?: string } = {}): MeasureSpec | undefined {
  if (list === undefined || list === 'none') {
    if (cka.examples !== undefined || cka.estimator !== undefined)
      throw new HealbertError('ERR_CONFIG', '--cka-examples and --cka-estimator need --measure cka');
    return undefined;
  }
  const kinds = list.split(',').map((k) => k.trim());
  const unknown = kinds.find((k) => !(MEASURE_KINDS as readonly string[]).includes(k));
  if (unknown !== undefined)
    throw new HealbertError(
      'ERR_CONFIG',
      `--measure: unknown measurement "${unknown}" (expected a list of ${MEASURE_KINDS.join(', ')}, or none)`,
    );
  if ((cka.examples !== undefined || cka.estimator !== undefined) && !kinds.includes('cka'))
    throw new HealbertError('ERR_CONFIG', '--cka-examples and --cka-estimator need --measure cka');
  const spec: MeasureSpec = {};
  if (kinds.includes('cka'))
    spec.cka =
      cka.examples === undefined && cka.estimator === undefined
        ? true
        : ({
            ...(cka.examples !== undefined ? { examples: cka.examples } : {}),
            ...(cka.estimator !== undefined ? { estimator: cka.estimator } : {}),
          } as { examples?: number; estimator?: CkaEstimator });
  if (kinds.includes('weights')) spec.weights = true;
  if (kinds.includes('mlm')) spec.mlm = true;
  resolveMeasure(spec, '--measure');
  return spec;
}

/**
 * pretrained protocol: a cell measured against the clean cell of its seed after healing (representations,
 * weights) needs that clean cell finished first, or in its fleet; the sweep schedules it so (run.ts).
 */
export const measuredAgainstCleanCell = (config: CellConfig): boolean =>
  config.protocol === 'pretrained' &&
  config.corruption !== null &&
  (config.measure?.cka !== undefined || config.measure?.weights !== undefined);
