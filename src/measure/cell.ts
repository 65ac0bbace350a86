/**
 * The measurements of one fleet of cells (src/sweep/cell.ts calls these at its stages), for what the cells'
 * config.measure asks (spec.ts). The representations come from the evaluation passes a cell runs anyway
 * (passes.ts): finetuned protocol, the task model's evaluation before and after corruption and the last
 * epoch's; pretrained protocol, the probe's pass over the evaluation split and the last epoch's, plus the
 * clean pre-trained model once per worker process. Nothing here changes what a cell trains or scores.
 *
 * References (types.ts says which comparison uses which): the model before corruption is the cell's own
 * starting point; the clean fine-tuned model is, under finetuned, the task model, and under pretrained the
 * clean cell of the same seed, a member of the same fleet or what it saved (store.ts). The sweep runs that
 * clean cell first (run.ts, needsCleanCell).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Model, type ParameterInfo } from '../model/model.js';
import { loadNative } from '../native/binding.js';
import { specialIds } from '../pretrain/pack.js';
import type { PlannedCell } from '../sweep/cell.js';
import { type CellData, subsetIndices } from '../sweep/data.js';
import { cellModelDir } from '../sweep/store.js';
import { evaluateMembers, outputsMembers, scorePredictions } from '../sweep/train.js';
import type { CellConfig, CellResult, MetricValues } from '../sweep/types.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { ckaByLayer } from './compare.js';
import { copyEncoder, type MlmProbe, mlmProbe, scoreMlm } from './mlm.js';
import { type LayerPass, passWithLayers, type Representations } from './passes.js';
import type { ResolvedMeasure } from './spec.js';
import { readRepresentations, representationsPath, writeRepresentations } from './store.js';
import type { CellMeasurements, MlmScores, WeightSums } from './types.js';
import { addSums, compareWithReference, emptySums, readTensors, tensorSums } from './weights.js';

/** Per worker process: the clean pre-trained model's representations, per loaded data and setting. */
const cleanRepresentations = new WeakMap<CellData, Map<string, Representations>>();

const isReinitWeight = (p: ParameterInfo) => p.kind === 'linear.weight' || p.kind === 'embedding';
type Role = 'clean' | 'control' | 'corrupted';
const roleOf = (c: CellConfig): Role => (c.corruption ? 'corrupted' : c.control ? 'control' : 'clean');

export interface FleetMeasureSetup {
  model: Model;
  cells: PlannedCell[];
  data: CellData;
  /** The sweep folder (clean cells' saved representations and weights). */
  dir: string;
  /** finetuned protocol: the cells heal the clean cell's task model. */
  healsTaskModel: boolean;
  /** What Model.load gave the cells' model (for the reference models loaded here). */
  load: { device: string; dtype: 'float32' | 'bfloat16'; numLabels: number; seed: number };
}

export class FleetMeasurer {
  readonly measure: ResolvedMeasure;
  private readonly s: FleetMeasureSetup;
  private readonly roles: Role[];
  private readonly seconds = { cka: 0, weights: 0, mlm: 0 };
  private readonly ckaRows: Int32Array;
  private start?: Representations;
  private corrupted?: Representations[];
  private final?: Representations[];
  private startWeights?: Map<string, Float32Array>;
  private pretrainedWeights?: Map<string, Float32Array>;
  private previous: Map<string, Float32Array>[] = [];
  private updates: NonNullable<CellMeasurements['weights']>['updates'][];
  private reinit: Map<string, WeightSums>[] = [];
  private mlmModel?: Model;
  private probe?: MlmProbe;
  private mlm: { before?: MlmScores | undefined; after: (MlmScores | undefined)[] } = { after: [] };
  private mlmRows = 0;

  constructor(setup: FleetMeasureSetup) {
    this.s = setup;
    const config = (setup.cells[0] as PlannedCell).config;
    this.measure = config.measure as ResolvedMeasure;
    this.roles = setup.cells.map((c) => roleOf(c.config));
    const evalSize = setup.data.eval.size;
    this.ckaRows = subsetIndices(evalSize, this.measure.cka?.examples ?? 0, config.task.subsetSeed + 2);
    this.updates = setup.cells.map(() => []);
  }

  private get config(): CellConfig {
    return (this.s.cells[0] as PlannedCell).config;
  }

  private get pretrained(): boolean {
    return this.config.protocol === 'pretrained';
  }

  private async timed<T>(kind: keyof FleetMeasurer['seconds'], work: () => Promise<T>): Promise<T> {
    const t0 = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.seconds[kind] += Number(process.hrtime.bigint() - t0) / 1e9;
    }
  }

  private cacheKey(): string {
    const c = this.config;
    return JSON.stringify([c.dtype, c.device, c.recipe.evalBatchSize, this.measure.cka?.examples]);
  }

  /** Pretrained protocol, before any corruption: the clean model's representations, unless a clean member's probe gives them. */
  async beforeCorruption(): Promise<void> {
    const { model, data } = this.s;
    if (this.measure.weights)
      await this.timed('weights', async () => {
        this.startWeights = await readTensors(model, 0, () => true);
        this.pretrainedWeights = await this.pretrainedReference();
      });
    if (this.measure.mlm) await this.timed('mlm', () => this.mlmBefore());
    if (!this.measure.cka || this.s.healsTaskModel) return;
    const cached = cleanRepresentations.get(data)?.get(this.cacheKey());
    // A clean member's probe pass gives them (pretrained protocol); else one pass now.
    if (cached) this.start = cached;
    else if (!(this.pretrained && this.roles.includes('clean')))
      await this.timed('cka', async () => {
        const pass = await passWithLayers(model, data.eval, this.config.recipe.evalBatchSize, this.ckaRows);
        this.setStart(pass.representations[0] as Representations);
      });
  }

  private setStart(r: Representations): void {
    this.start = r;
    if (this.s.healsTaskModel) return; // a task model is one seed's: nothing to share
    const byKey = cleanRepresentations.get(this.s.data) ?? new Map<string, Representations>();
    byKey.set(this.cacheKey(), r);
    cleanRepresentations.set(this.s.data, byKey);
  }

  /** The pre-trained checkpoint's tensors (those it has: not a fresh head or pooler). */
  private async pretrainedReference(): Promise<Map<string, Float32Array>> {
    const { model } = this.s;
    const fresh = (m: Model) =>
      new Set([...(m.loadReport?.initialised ?? []), ...m.parameters().flatMap((p) => (p.isHead ? [p.name] : []))]);
    if (!this.s.healsTaskModel) {
      const skip = fresh(model);
      return new Map([...(this.startWeights as Map<string, Float32Array>)].filter(([name]) => !skip.has(name)));
    }
    const checkpoint = await Model.load(this.config.model.path, { ...this.s.load, newHead: true });
    try {
      const skip = fresh(checkpoint);
      return await readTensors(checkpoint, 0, (p) => !skip.has(p.name));
    } finally {
      checkpoint.dispose();
    }
  }

  private async mlmBefore(): Promise<void> {
    const { model, data } = this.s;
    // The checkpoint as it is (newHead would replace the MLM head too: it is a head), one member per cell.
    const { device, dtype, seed } = this.s.load;
    this.mlmModel = await Model.load(this.config.model.path, { device, dtype, seed, mlmHead: true, members: model.members });
    const rows = subsetIndices(data.eval.size, this.measure.mlm?.examples ?? 0, this.config.task.subsetSeed + 3);
    this.mlmRows = rows.length;
    this.probe = mlmProbe(data.eval, rows, specialIds(await loadTokenizer(this.config.model.path)), this.config.recipe.evalBatchSize);
    // Every member starts from the same weights: the checkpoint (pretrained) or the task model (finetuned).
    if (this.s.healsTaskModel) await copyEncoder(model, 0, this.mlmModel, 0);
    this.mlm.before = (await scoreMlm(this.mlmModel, this.probe))[0];
  }

  /** finetuned protocol: the task model's evaluation before or after corruption, with its representations. */
  async evaluate(stage: 'before' | 'after'): Promise<MetricValues[]> {
    const { model, data } = this.s;
    if (!this.measure.cka) return evaluateMembers(model, data.task, data.eval, this.config.recipe.evalBatchSize);
    const pass = await passWithLayers(model, data.eval, this.config.recipe.evalBatchSize, this.ckaRows);
    if (stage === 'before') this.setStart(pass.representations[0] as Representations);
    else this.corrupted = pass.representations;
    return this.metrics(pass);
  }

  private metrics(pass: LayerPass): MetricValues[] {
    const labels = this.s.data.eval.labels as Int32Array | Float32Array;
    return pass.logits.map((v) => scorePredictions(this.s.data.task, v, pass.width, labels));
  }

  /** After every member is corrupted: re-initialised weights against their originals, MLM after corruption. */
  async afterCorruption(corrupted: Set<string>[]): Promise<void> {
    const { model } = this.s;
    if (this.measure.weights)
      await this.timed('weights', async () => {
        const start = this.startWeights as Map<string, Float32Array>;
        for (const [m, cell] of this.s.cells.entries()) {
          const sums = new Map<string, WeightSums>();
          if (cell.config.corruption?.method === 'reinit')
            for (const p of model.parameters())
              if (corrupted[m]?.has(p.name) && isReinitWeight(p))
                sums.set(p.name, tensorSums(await model.getParameter(p.name, { member: m }), start.get(p.name) as Float32Array));
          this.reinit.push(sums);
          this.previous.push(await readTensors(model, m, () => true));
        }
      });
    if (this.measure.mlm && this.roles.includes('corrupted'))
      await this.timed('mlm', async () => {
        const mlm = this.mlmModel as Model;
        for (const [m, role] of this.roles.entries()) if (role === 'corrupted') await copyEncoder(model, m, mlm, m);
        const scores = await scoreMlm(mlm, this.probe as MlmProbe);
        this.mlm.after = this.roles.map((role, m) => (role === 'corrupted' ? scores[m] : undefined));
      });
  }

  /** pretrained protocol: the probe's first-token features of the evaluation split, with the representations. */
  async probeFeatures(): Promise<{ values: Float32Array[]; width: number }> {
    const { model, data } = this.s;
    const batch = this.config.recipe.evalBatchSize;
    if (!this.measure.cka) return outputsMembers(model, data.eval, batch, 'cls');
    const pass = await passWithLayers(model, data.eval, batch, this.ckaRows);
    this.corrupted = pass.representations;
    const clean = this.roles.indexOf('clean');
    if (!this.start && clean >= 0) this.setStart(pass.representations[clean] as Representations);
    return { values: pass.cls, width: model.config.hiddenSize };
  }

  /** fineTuneMembers' evaluation after each epoch: update norms, and the last epoch's pass with representations. */
  async epochEnd(epoch: number, last: boolean, active: readonly boolean[]): Promise<MetricValues[]> {
    const { model, data } = this.s;
    if (this.measure.weights) await this.timed('weights', () => this.updateNorms(epoch, active));
    if (!(last && this.measure.cka)) return evaluateMembers(model, data.task, data.eval, this.config.recipe.evalBatchSize);
    const pass = await passWithLayers(model, data.eval, this.config.recipe.evalBatchSize, this.ckaRows);
    this.final = pass.representations;
    return this.metrics(pass);
  }

  private async updateNorms(epoch: number, active: readonly boolean[]): Promise<void> {
    const { model } = this.s;
    for (let m = 0; m < model.members; m++) {
      if (!active[m]) continue;
      const byLayer = new Map<number, { updateSq: number; weightSq: number }>();
      const previous = this.previous[m] as Map<string, Float32Array>;
      for (const p of model.parameters()) {
        if (p.layer < 0 && !p.component.startsWith('embeddings')) continue; // per layer: the embeddings and the encoder layers
        const now = await model.getParameter(p.name, { member: m });
        const s = tensorSums(now, previous.get(p.name) as Float32Array);
        const row = byLayer.get(p.layer) ?? { updateSq: 0, weightSq: 0 };
        row.updateSq += s.diffSq;
        row.weightSq += s.referenceSq;
        byLayer.set(p.layer, row);
        previous.set(p.name, now);
      }
      for (const [layer, row] of [...byLayer].sort(([a], [b]) => a - b)) this.updates[m]?.push({ epoch, layer, ...row });
    }
  }

  /** After training: every comparison, into each done member's result; the clean cell saves what others compare with. */
  async finish(results: CellResult[]): Promise<void> {
    const done = results.map((r) => r.status === 'done');
    const out: CellMeasurements[] = results.map(() => ({ seconds: this.seconds }));
    try {
      if (this.measure.cka) await this.timed('cka', () => this.finishCka(out, done));
      if (this.measure.weights) await this.timed('weights', () => this.finishWeights(out, done));
      if (this.measure.mlm) await this.timed('mlm', () => this.finishMlm(out, done));
    } finally {
      this.mlmModel?.dispose();
    }
    for (const [m, r] of results.entries()) if (done[m]) r.measurements = out[m] as CellMeasurements;
  }

  private async finishCka(out: CellMeasurements[], done: boolean[]): Promise<void> {
    const { estimator } = this.measure.cka as NonNullable<ResolvedMeasure['cka']>;
    const gram = loadNative().centredGram;
    const { cells, dir } = this.s;
    let reference: Representations | undefined;
    if (this.s.healsTaskModel) reference = this.start;
    else {
      const inFleet = this.roles.indexOf('clean');
      const baselineId = cells.find((c) => c.baselineId)?.baselineId;
      if (inFleet >= 0 && done[inFleet]) reference = this.final?.[inFleet];
      else if (baselineId) reference = await readRepresentations(representationsPath(dir, baselineId));
    }
    for (const [m, cell] of cells.entries()) {
      const final = this.final?.[m];
      if (!done[m] || !final) continue;
      const notes: string[] = [];
      const cka: NonNullable<CellMeasurements['cka']> = { estimator, examples: this.ckaRows.length };
      if (this.start) cka.fromStart = await ckaByLayer(this.start, final, estimator, gram);
      else notes.push('no representations of the model before corruption');
      const role = this.roles[m];
      if (role === 'corrupted' && this.start && this.corrupted?.[m])
        cka.beforeHealing = await ckaByLayer(this.start, this.corrupted[m], estimator, gram);
      if (role !== 'clean') {
        if (reference) cka.afterHealing = await ckaByLayer(reference, final, estimator, gram);
        else notes.push(`the clean cell ${cell.baselineId} of this seed left no representations (not done)`);
      } else if (this.pretrained) await writeRepresentations(representationsPath(dir, cell.id), final);
      if (notes.length) cka.notes = notes;
      (out[m] as CellMeasurements).cka = cka;
    }
  }

  /** The clean fine-tuned model's tensors: the task model (finetuned), or the clean cell's (pretrained). */
  private async cleanWeights(done: boolean[]): Promise<Map<string, Float32Array> | undefined> {
    if (this.s.healsTaskModel) return this.startWeights;
    const inFleet = this.roles.indexOf('clean');
    if (inFleet >= 0) return done[inFleet] ? readTensors(this.s.model, inFleet, () => true) : undefined;
    const baselineId = this.s.cells.find((c) => c.baselineId)?.baselineId;
    const dir = baselineId ? cellModelDir(this.s.dir, baselineId) : undefined;
    if (!dir || !existsSync(join(dir, 'model.safetensors'))) return undefined;
    const clean = await Model.load(dir, this.s.load);
    try {
      return await readTensors(clean, 0, () => true);
    } finally {
      clean.dispose();
    }
  }

  private async finishWeights(out: CellMeasurements[], done: boolean[]): Promise<void> {
    const { model, cells, dir } = this.s;
    const needsClean = this.roles.some((role, m) => role !== 'clean' && done[m]);
    const clean = needsClean ? await this.cleanWeights(done) : undefined;
    for (const [m, cell] of cells.entries()) {
      if (!done[m]) continue;
      const role = this.roles[m];
      const weights: NonNullable<CellMeasurements['weights']> = {
        toPretrained: await compareWithReference(model, m, this.pretrainedWeights as Map<string, Float32Array>),
        updates: this.updates[m] ?? [],
      };
      if (role !== 'clean') {
        if (clean) weights.toClean = await compareWithReference(model, m, clean);
        else weights.notes = [`the clean cell ${cell.baselineId} of this seed left no weights (not done)`];
      }
      const reinit = this.reinit[m];
      if (reinit && reinit.size > 0) weights.reinit = await this.reinitRows(m, reinit);
      (out[m] as CellMeasurements).weights = weights;
      // pretrained protocol: the cells measured against this clean cell read its weights (finetuned: already saved).
      if (role === 'clean' && this.pretrained) await model.save(cellModelDir(dir, cell.id), { member: m });
    }
  }

  private async reinitRows(
    m: number,
    atReinit: Map<string, WeightSums>,
  ): Promise<NonNullable<NonNullable<CellMeasurements['weights']>['reinit']>> {
    const { model } = this.s;
    const start = this.startWeights as Map<string, Float32Array>;
    const rows = new Map<string, { layer: number; component: string; atReinit: WeightSums; healed: WeightSums }>();
    for (const p of model.parameters()) {
      const at = atReinit.get(p.name);
      if (!at) continue;
      const key = `${p.layer}|${p.component}`;
      const row = rows.get(key) ?? { layer: p.layer, component: p.component, atReinit: emptySums(), healed: emptySums() };
      addSums(row.atReinit, at);
      addSums(row.healed, tensorSums(await model.getParameter(p.name, { member: m }), start.get(p.name) as Float32Array));
      rows.set(key, row);
    }
    return [...rows.values()];
  }

  private async finishMlm(out: CellMeasurements[], done: boolean[]): Promise<void> {
    const mlm = this.mlmModel as Model;
    for (let m = 0; m < this.s.model.members; m++) if (done[m]) await copyEncoder(this.s.model, m, mlm, m);
    const scores = await scoreMlm(mlm, this.probe as MlmProbe);
    for (let m = 0; m < scores.length; m++) {
      if (!done[m]) continue;
      const after = this.mlm.after[m];
      (out[m] as CellMeasurements).mlm = {
        examples: this.mlmRows,
        positions: (this.probe as MlmProbe).positions,
        ...(this.mlm.before ? { beforeCorruption: this.mlm.before } : {}),
        ...(after ? { afterCorruption: after } : {}),
        final: scores[m] as MlmScores,
      };
    }
  }
}
