/**
 * A sweep's measurements checked against the world before its first cell (src/sweep/preflight.ts calls
 * this): each is refused with ERR_CONFIG naming the field when it could not be computed, before any
 * training: a subset larger than the evaluation split, MLM knowledge of a model without an MLM head, and
 * a weight comparison whose reference does not exist under the sweep's protocol.
 */
import { join } from 'node:path';
import { resolveTargets } from '../corruption/targets.js';
import { HealbertError } from '../errors.js';
import { locateWeightFiles, planLoad } from '../model/checkpoint.js';
import { engineConfig, readRawConfig } from '../model/config.js';
import { loadNative } from '../native/binding.js';
import type { ExpandedCorruption } from '../sweep/expand.js';
import type { ResolvedSweepSpec } from '../sweep/spec.js';

/** The parameters a model folder's checkpoint does not hold (initialised fresh when loaded), with or without the MLM head. */
async function freshParameters(path: string, mlmHead: boolean) {
  const raw = await readRawConfig(path);
  const config = engineConfig(raw, join(path, 'config.json'), mlmHead ? { mlmHead } : {});
  const layout = loadNative().parameterLayout(config);
  const plan = await planLoad(await locateWeightFiles(path), config.arch, layout);
  return { fresh: new Set(plan.initialised), layout, numLayers: config.numLayers, numHeads: config.numHeads };
}

export async function checkMeasure(
  spec: ResolvedSweepSpec,
  corruptions: readonly ExpandedCorruption[],
  rows: readonly { train: number; eval: number }[],
): Promise<void> {
  const measure = spec.measure;
  if (!measure) return;
  for (const [i, task] of spec.tasks.entries()) {
    const evaluated = Math.min(task.evalExamples ?? Number.POSITIVE_INFINITY, rows[i]?.eval ?? 0);
    for (const [field, asked] of [
      ['cka.examples', measure.cka?.examples],
      ['mlm.examples', measure.mlm?.examples],
    ] as const) {
      if (asked !== undefined && asked > evaluated)
        throw new HealbertError(
          'ERR_CONFIG',
          `spec.measure.${field}: ${asked} examples, but the cells of spec.tasks[${i}] evaluate ${evaluated} (${task.name} ${task.evalSplit}${task.evalExamples !== undefined ? ', evalExamples' : ''}); ask for at most ${evaluated}`,
        );
    }
  }
  for (const [i, model] of spec.models.entries()) {
    if (measure.mlm) {
      const raw = await readRawConfig(model.path);
      const arch = engineConfig(raw, join(model.path, 'config.json')).arch;
      if (arch !== 'bert')
        throw new HealbertError(
          'ERR_CONFIG',
          `spec.measure.mlm: MLM knowledge needs a BERT checkpoint with an MLM head; spec.models[${i}] is ${arch}`,
        );
      const { fresh, layout } = await freshParameters(model.path, true);
      const missing = layout.filter((p) => p.component.startsWith('mlm.') && fresh.has(p.name)).map((p) => p.name);
      if (missing.length > 0)
        throw new HealbertError(
          'ERR_CONFIG',
          `spec.measure.mlm: spec.models[${i}] (${model.path}) has no MLM head (${missing[0]} is not in its checkpoint): there is no original head to score its encoder with`,
        );
    }
    if (measure.weights && spec.protocol === 'pretrained') {
      // Under the pretrained protocol a cell's task head, and a pooler its checkpoint lacks, start fresh:
      // re-initialising them has no pre-trained original to return toward.
      const { fresh, layout, numLayers, numHeads } = await freshParameters(model.path, false);
      for (const c of corruptions) {
        if (c.spec.method !== 'reinit') continue;
        const { indices } = resolveTargets(c.spec.targets, layout, numLayers, `${c.path}.targets`, { numHeads });
        const orphan = [...indices].map((k) => layout[k] as (typeof layout)[number]).find((t) => t.isHead || fresh.has(t.name));
        if (orphan)
          throw new HealbertError(
            'ERR_CONFIG',
            `spec.measure.weights: ${c.path} re-initialises ${orphan.name}, which has no pre-trained original under the pretrained protocol (spec.models[${i}] starts it fresh), so whether healing returns it toward its original cannot be measured; leave it out of the targets, or measure under the finetuned protocol, where the task model is the original`,
          );
      }
    }
  }
}
