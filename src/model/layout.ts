/**
 * The parameter layout of a model: its family's descriptor (src/model/families) expanded for a config into
 * every tensor's checkpoint name, shape, kind, role in the forward pass, and the encoder layers that use it.
 * Pure: no addon. The engine takes this list with the config (native/engine/layout.h) and checks it.
 */
import { HealbertError } from '../errors.js';
import { type EngineConfig, relativeSpan } from './engine-config.js';
import { layerGroupOf } from './families/albert.js';
import { family } from './families/index.js';
import type { LayerNames } from './families/types.js';

/** One tensor of the layout, as the engine takes it (native/engine/layout.h) with the config. */
export interface NativeParamSpec {
  name: string;
  shape: number[];
  kind: 'linear.weight' | 'bias' | 'layernorm.weight' | 'layernorm.bias' | 'embedding';
  /** Its place in the forward pass (native/engine/layout.cc's role names), e.g. "layer.query.weight". */
  role: string;
  /** The first encoder layer that uses it, -1 outside the encoder. */
  layer: number;
  /** Every encoder layer that uses it: [layer], or a shared group's layers (ALBERT); [] outside the encoder. */
  layers: number[];
  component: string;
  isHead: boolean;
  /** Embeddings: the row that is zero at initialisation and gets no gradient. */
  paddingIdx?: number;
  /** How a fresh value is drawn, where not N(0, initializer_range) (src/model/families/types.ts: ParamInit). */
  init?: { std: number; cutoff?: number; paddingRow?: 'zero' | 'drawn' };
  /** 1: a tensor of an ELECTRA pre-training model's generator (native/engine/layout.h); absent: the model's. */
  network?: number;
}

/** What a tensor is: a Linear weight, a bias, a LayerNorm's weight or bias, or an embedding table. */
export type ParamKind = NativeParamSpec['kind'];

/** The encoder layers of each tensor group: [[0], [1], ...], or ALBERT's shared groups ([[0..11]]). */
export function layerGroups(c: EngineConfig): number[][] {
  const groups = c.untied || !c.sharedLayerGroups ? c.numLayers : c.sharedLayerGroups;
  const out: number[][] = Array.from({ length: groups }, () => []);
  for (let i = 0; i < c.numLayers; i++) out[groups === c.numLayers ? i : layerGroupOf(i, c.numLayers, groups)]?.push(i);
  return out;
}

type Width = (c: EngineConfig) => number;
const hidden: Width = (c) => c.hiddenSize;
const inner: Width = (c) => c.intermediateSize * (c.structure.ffn === 'glu' ? 2 : 1);

/**
 * A layer's tensors in checkpoint order, where the family names them: out x in for a Linear, [out] for a
 * norm; `bias` says whether it has one (EngineConfig.bias), `needed` whether this config has it at all.
 */
const LAYER_PARTS: {
  key: keyof LayerNames;
  role: string;
  component: string;
  norm: boolean;
  shape: [Width, Width] | [Width];
  bias: (c: EngineConfig) => boolean;
  needed?: (c: EngineConfig) => boolean;
}[] = [
  {
    key: 'query',
    role: 'query',
    component: 'attention.query',
    norm: false,
    shape: [hidden, hidden],
    bias: (c) => c.bias?.attention ?? true,
  },
  { key: 'key', role: 'key', component: 'attention.key', norm: false, shape: [hidden, hidden], bias: (c) => c.bias?.attention ?? true },
  {
    key: 'value',
    role: 'value',
    component: 'attention.value',
    norm: false,
    shape: [hidden, hidden],
    bias: (c) => c.bias?.attention ?? true,
  },
  // One fused projection: query, key and value rows one after the other (ModernBERT's Wqkv).
  {
    key: 'qkv',
    role: 'qkv',
    component: 'attention.qkv',
    norm: false,
    shape: [(c) => 3 * c.hiddenSize, hidden],
    bias: (c) => c.bias?.attention ?? true,
  },
  // DeBERTa without share_att_key: the relative embeddings' own projections, for the terms pos_att_type names.
  {
    key: 'positionKey',
    role: 'pos_key',
    component: 'attention.pos_key',
    norm: false,
    shape: [hidden, hidden],
    bias: () => true,
    needed: (c) => c.relative !== undefined && !c.relative.shareKeys && c.relative.c2p,
  },
  {
    key: 'positionQuery',
    role: 'pos_query',
    component: 'attention.pos_query',
    norm: false,
    shape: [hidden, hidden],
    bias: () => true,
    needed: (c) => c.relative !== undefined && !c.relative.shareKeys && c.relative.p2c,
  },
  {
    key: 'attentionOutput',
    role: 'attention_output',
    component: 'attention.output',
    norm: false,
    shape: [hidden, hidden],
    bias: (c) => c.bias?.attention ?? true,
  },
  {
    key: 'attentionNorm',
    role: 'attention_norm',
    component: 'attention.layernorm',
    norm: true,
    shape: [hidden],
    bias: (c) => c.bias?.norm ?? true,
  },
  { key: 'ffnIn', role: 'ffn_in', component: 'ffn.intermediate', norm: false, shape: [inner, hidden], bias: (c) => c.bias?.ffn ?? true },
  {
    key: 'ffnOut',
    role: 'ffn_out',
    component: 'ffn.output',
    norm: false,
    shape: [hidden, (c) => c.intermediateSize],
    bias: (c) => c.bias?.ffn ?? true,
  },
  { key: 'ffnNorm', role: 'ffn_norm', component: 'ffn.layernorm', norm: true, shape: [hidden], bias: (c) => c.bias?.norm ?? true },
];

/** Every tensor of a model of this config, from its family's descriptor: name, shape, kind, role and layers. */
export function layoutOf(c: EngineConfig): NativeParamSpec[] {
  const f = family(c.arch);
  const n = f.names;
  const [h, e] = [c.hiddenSize, c.embeddingSize];
  const out: NativeParamSpec[] = [];
  const outside = { layer: -1, layers: [] as number[], isHead: false };
  const normBias = c.bias?.norm ?? true;
  // A fresh tensor's draw where the family's is not N(0, initializer_range) (ModernBERT).
  const initOf = (role: string) => {
    const init = f.initOf?.(role, c);
    return init ? { init } : {};
  };
  const embedding = (name: string, rows: number, width: number, role: string, component: string, paddingIdx?: number) =>
    out.push({
      name: `${name}.weight`,
      shape: [rows, width],
      kind: 'embedding',
      role,
      component,
      ...outside,
      ...(paddingIdx === undefined ? {} : { paddingIdx }),
      ...initOf(role),
    });
  // A Linear (weight (out, in) and, with `bias`, its bias) or a LayerNorm (weight and, with `bias`, its bias (size)).
  const pair: Pair = (name, shape, norm, role, component, where = outside, bias = true) => {
    out.push({
      name: `${name}.weight`,
      shape,
      kind: norm ? 'layernorm.weight' : 'linear.weight',
      role: `${role}.weight`,
      component,
      ...where,
      ...initOf(`${role}.weight`),
    });
    if (!bias) return;
    out.push({
      name: `${name}.bias`,
      shape: [shape[0] as number],
      kind: norm ? 'layernorm.bias' : 'bias',
      role: `${role}.bias`,
      component,
      ...where,
    });
  };

  embedding(n.word, c.vocabSize, e, 'embeddings.word', 'embeddings.word', c.padTokenId < c.vocabSize ? c.padTokenId : undefined);
  const offset = c.structure.positions === 'offset';
  if (n.position && c.structure.positions !== 'none')
    embedding(n.position, c.maxPositions, e, 'embeddings.position', 'embeddings.position', offset ? c.padTokenId : undefined);
  if (n.tokenType && c.typeVocabSize > 0) embedding(n.tokenType, c.typeVocabSize, e, 'embeddings.token_type', 'embeddings.token_type');
  const projects = n.projection !== undefined && (f.alwaysProjects || e !== h);
  const afterProjection = c.structure.embeddingNormAfterProjection ?? false;
  const embeddingsNorm = () =>
    pair(n.embeddingsNorm, [afterProjection && projects ? h : e], true, 'embeddings.norm', 'embeddings.layernorm', outside, normBias);
  if (!afterProjection) embeddingsNorm();
  if (projects)
    pair(n.projection as string, [h, e], false, 'embeddings.projection', 'embeddings.projection', outside, c.bias?.projection ?? true);
  if (afterProjection) embeddingsNorm();

  for (const [group, layers] of layerGroups(c).entries()) {
    const where = { layer: layers[0] as number, layers, isHead: false };
    for (const part of LAYER_PARTS) {
      const template = n.layer[part.key];
      if (template === undefined || (part.needed && !part.needed(c))) continue;
      if (part.key === 'attentionNorm' && f.noFirstAttentionNorm && group === 0) continue;
      const shape = part.shape.map((width) => width(c));
      pair(template.replace('{i}', String(group)), shape, part.norm, `layer.${part.role}`, part.component, where, part.bias(c));
    }
  }
  if (c.relative && n.relativeEmbeddings) {
    const rows = 2 * relativeSpan(c.relative);
    embedding(n.relativeEmbeddings, rows, h, 'encoder.relative_embeddings', 'encoder.rel_embeddings');
    if (c.relative.normalised && n.relativeNorm)
      pair(n.relativeNorm, [h], true, 'encoder.relative_norm', 'encoder.layernorm', outside, normBias);
  }
  if (c.structure.norm === 'pre' && n.finalNorm) pair(n.finalNorm, [h], true, 'encoder.final_norm', 'encoder.layernorm', outside, normBias);

  const pooler = n.headDense.pooler;
  const denseWhere = { ...outside, isHead: !pooler };
  pair(n.headDense.name, [h, h], false, 'head.dense', pooler ? 'pooler' : 'classifier.dense', denseWhere, c.bias?.headDense ?? true);
  if (n.headDense.norm) pair(n.headDense.norm, [h], true, 'head.norm', pooler ? 'pooler' : 'classifier.dense', denseWhere, normBias);
  pair(n.classifier, [c.numLabels, h], false, 'head.classifier', 'classifier', { ...outside, isHead: true });
  if (c.generator) generatorLayout(c, out, pair);
  if (c.mlmHead && n.mlm) {
    // BertForMaskedLM's head; its decoder weight is the word embedding matrix when tied, so only its bias is
    // a parameter of its own then.
    const head = { ...outside, isHead: true };
    pair(n.mlm.dense, [h, h], false, 'mlm.dense', 'mlm.transform', head);
    pair(n.mlm.norm, [h], true, 'mlm.norm', 'mlm.layernorm', head);
    out.push({ name: n.mlm.bias, shape: [c.vocabSize], kind: 'bias', role: 'mlm.bias', component: 'mlm.bias', ...head });
    if (!c.mlmTied) pair(n.mlm.decoder, [c.vocabSize, h], false, 'mlm.decoder', 'mlm.decoder', head);
  }
  return out;
}

/** The generator's parameters in an ELECTRA pre-training model are its ElectraForMaskedLM names under this. */
export const GENERATOR_PREFIX = 'generator/';

/** Where a parameter sits: its layers, whether it is a task head, its network. */
type Where = Pick<NativeParamSpec, 'layer' | 'layers' | 'isHead'> & { network?: number };
type Pair = (name: string, shape: number[], norm: boolean, role: string, component: string, where?: Where, bias?: boolean) => void;

/**
 * ELECTRA pre-training: the discriminator's detection head, then the generator (network 1): its projection
 * from the shared embeddings, its layers and its masked-LM head (dense to the embeddings' width, LayerNorm, bias;
 * the decoder is the word embeddings).
 */
function generatorLayout(c: EngineConfig, out: NativeParamSpec[], pair: Pair): void {
  const g = c.generator as NonNullable<EngineConfig['generator']>;
  const n = family(c.arch).names;
  const p = n.pretraining;
  if (!p) throw new HealbertError('ERR_CONFIG', `${c.arch} has no ELECTRA pre-training heads`);
  const [h, e] = [c.hiddenSize, c.embeddingSize];
  const outside = { layer: -1, layers: [] as number[], isHead: true };
  pair(p.rtdDense, [h, h], false, 'rtd.dense', 'rtd.dense', outside);
  pair(p.rtdPrediction, [1, h], false, 'rtd.prediction', 'rtd.prediction', outside);
  const gen = { network: 1 };
  const name = (s: string) => `${GENERATOR_PREFIX}${s}`;
  if (n.projection && e !== g.hiddenSize)
    pair(name(n.projection), [g.hiddenSize, e], false, 'embeddings.projection', 'generator.embeddings.projection', {
      ...outside,
      isHead: false,
      ...gen,
    });
  // The generator's layers are the family's, at the generator's sizes.
  const sized: EngineConfig = { ...c, hiddenSize: g.hiddenSize, intermediateSize: g.intermediateSize, numHeads: g.numHeads };
  for (let i = 0; i < g.numLayers; i++) {
    // layer -1: not one of the model's encoder layers (targets, scans and tables leave the generator alone).
    const where = { layer: -1, layers: [i], isHead: false, ...gen };
    for (const part of LAYER_PARTS) {
      const template = n.layer[part.key];
      if (template === undefined || (part.needed && !part.needed(sized))) continue;
      const shape = part.shape.map((width) => width(sized));
      pair(
        name(template.replace('{i}', String(i))),
        shape,
        part.norm,
        `layer.${part.role}`,
        `generator.${part.component}`,
        where,
        part.bias(sized),
      );
    }
  }
  pair(name(p.generatorDense), [e, g.hiddenSize], false, 'mlm.dense', 'generator.mlm.transform', { ...outside, ...gen });
  pair(name(p.generatorNorm), [e], true, 'mlm.norm', 'generator.mlm.layernorm', { ...outside, ...gen });
  out.push({
    name: name(p.generatorBias),
    shape: [c.vocabSize],
    kind: 'bias',
    role: 'mlm.bias',
    component: 'generator.mlm.bias',
    ...outside,
    ...gen,
  });
}

/**
 * The checkpoint key each parameter loads from: its own name, except in a model untied from a checkpoint of
 * shared layer groups (ALBERT with untied: true), where layer i's copy loads from the group layer i used.
 */
export function checkpointNames(c: EngineConfig, layout: NativeParamSpec[]): string[] {
  if (!c.untied || !c.sharedLayerGroups) return layout.map((p) => p.name);
  const n = family(c.arch).names.layer;
  const templates = LAYER_PARTS.flatMap((part) => n[part.key] ?? []);
  return layout.map((p) => {
    if (p.layer < 0) return p.name;
    for (const t of templates) {
      const own = t.replace('{i}', String(p.layer));
      if (p.name.startsWith(`${own}.`))
        return `${t.replace('{i}', String(layerGroupOf(p.layer, c.numLayers, c.sharedLayerGroups as number)))}${p.name.slice(own.length)}`;
    }
    return p.name;
  });
}
