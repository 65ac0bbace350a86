/**
 * The parameter layout of a model: its family's descriptor (src/model/families) expanded for a config into
 * every tensor's checkpoint name, shape, kind, role in the forward pass, and the encoder layers that use it.
 * Pure: no addon. The engine takes this list with the config (native/engine/layout.h) and checks it.
 */
import { HealbertError } from '../errors.js';
import type { EngineConfig } from './config.js';
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

const LAYER_PARTS: { key: keyof LayerNames; role: string; component: string; norm: boolean }[] = [
  { key: 'query', role: 'query', component: 'attention.query', norm: false },
  { key: 'key', role: 'key', component: 'attention.key', norm: false },
  { key: 'value', role: 'value', component: 'attention.value', norm: false },
  { key: 'attentionOutput', role: 'attention_output', component: 'attention.output', norm: false },
  { key: 'attentionNorm', role: 'attention_norm', component: 'attention.layernorm', norm: true },
  { key: 'ffnIn', role: 'ffn_in', component: 'ffn.intermediate', norm: false },
  { key: 'ffnOut', role: 'ffn_out', component: 'ffn.output', norm: false },
  { key: 'ffnNorm', role: 'ffn_norm', component: 'ffn.layernorm', norm: true },
];

/** Every tensor of a model of this config, from its family's descriptor: name, shape, kind, role and layers. */
export function layoutOf(c: EngineConfig): NativeParamSpec[] {
  const f = family(c.arch);
  const n = f.names;
  const [h, e] = [c.hiddenSize, c.embeddingSize];
  const out: NativeParamSpec[] = [];
  const outside = { layer: -1, layers: [] as number[], isHead: false };
  const embedding = (name: string, rows: number, role: string, component: string, paddingIdx?: number) =>
    out.push({
      name: `${name}.weight`,
      shape: [rows, e],
      kind: 'embedding',
      role,
      component,
      ...outside,
      ...(paddingIdx === undefined ? {} : { paddingIdx }),
    });
  // A Linear (weight (out, in) and bias) or a LayerNorm (weight and bias (size)), as two entries.
  const pair: Pair = (name, shape, norm, role, component, where = outside) => {
    out.push({
      name: `${name}.weight`,
      shape,
      kind: norm ? 'layernorm.weight' : 'linear.weight',
      role: `${role}.weight`,
      component,
      ...where,
    });
    out.push({
      name: `${name}.bias`,
      shape: [shape[0] as number],
      kind: norm ? 'layernorm.bias' : 'bias',
      role: `${role}.bias`,
      component,
      ...where,
    });
  };

  embedding(n.word, c.vocabSize, 'embeddings.word', 'embeddings.word', c.padTokenId < c.vocabSize ? c.padTokenId : undefined);
  const offset = c.structure.positions === 'offset';
  embedding(n.position, c.maxPositions, 'embeddings.position', 'embeddings.position', offset ? c.padTokenId : undefined);
  if (n.tokenType && c.typeVocabSize > 0) embedding(n.tokenType, c.typeVocabSize, 'embeddings.token_type', 'embeddings.token_type');
  pair(n.embeddingsNorm, [e], true, 'embeddings.norm', 'embeddings.layernorm');
  if (n.projection && (f.alwaysProjects || e !== h)) pair(n.projection, [h, e], false, 'embeddings.projection', 'embeddings.projection');

  for (const [group, layers] of layerGroups(c).entries()) {
    const where = { layer: layers[0] as number, layers, isHead: false };
    for (const part of LAYER_PARTS) {
      const name = n.layer[part.key].replace('{i}', String(group));
      const shape = part.norm
        ? [h]
        : part.key === 'ffnIn'
          ? [c.intermediateSize, h]
          : part.key === 'ffnOut'
            ? [h, c.intermediateSize]
            : [h, h];
      pair(name, shape, part.norm, `layer.${part.role}`, part.component, where);
    }
  }

  const pooler = n.headDense.pooler;
  pair(n.headDense.name, [h, h], false, 'head.dense', pooler ? 'pooler' : 'classifier.dense', { ...outside, isHead: !pooler });
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
type Pair = (name: string, shape: number[], norm: boolean, role: string, component: string, where?: Where) => void;

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
  for (let i = 0; i < g.numLayers; i++) {
    // layer -1: not one of the model's encoder layers (targets, scans and tables leave the generator alone).
    const where = { layer: -1, layers: [i], isHead: false, ...gen };
    for (const part of LAYER_PARTS) {
      const shape = part.norm
        ? [g.hiddenSize]
        : part.key === 'ffnIn'
          ? [g.intermediateSize, g.hiddenSize]
          : part.key === 'ffnOut'
            ? [g.hiddenSize, g.intermediateSize]
            : [g.hiddenSize, g.hiddenSize];
      pair(name(n.layer[part.key].replace('{i}', String(i))), shape, part.norm, `layer.${part.role}`, `generator.${part.component}`, where);
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
  const templates = LAYER_PARTS.map((part) => n[part.key]);
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
