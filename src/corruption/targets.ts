/**
 * Which parameters a target spec selects, resolved against a model's parameter list. Pure: no addon.
 * Every impossible request (a layer that does not exist, an unknown component, a glob that matches
 * nothing) is an ERR_CONFIG error naming the field.
 */
import { HealbertError } from '../errors.js';
import type { LayerSelector, TargetSpec } from './spec.js';

/** A parameter as target selection sees it: its name, layer(s), component and kind. */
export interface TargetParameter {
  name: string;
  layer: number;
  /** Every encoder layer that uses it (a shared ALBERT group: several); default [layer]. */
  layers?: number[];
  component: string;
  kind: string;
  /** Its role in the forward pass (src/model/layout.ts): where heads and neurons sit in it. */
  role?: string;
  /** Needed for heads and neurons (slices are cut by shape). */
  shape?: number[];
}

/** The model sizes that heads and neurons are checked against. */
export interface TargetDims {
  numHeads: number;
  /** FFN neurons per layer (the config's intermediate size); default: the FFN input weight's rows. */
  numNeurons?: number;
}

/** Layer components by the names a spec may use. */
const COMPONENTS: Record<string, string[]> = {
  attention: [
    'attention.query',
    'attention.key',
    'attention.value',
    'attention.qkv',
    'attention.pos_key',
    'attention.pos_query',
    'attention.output',
  ],
  'attention.query': ['attention.query'],
  'attention.key': ['attention.key'],
  'attention.value': ['attention.value'],
  // ModernBERT's fused query, key and value projection (Wqkv).
  'attention.qkv': ['attention.qkv'],
  // DeBERTa without share_att_key: the relative embeddings' own key and query projections.
  'attention.pos_key': ['attention.pos_key'],
  'attention.pos_query': ['attention.pos_query'],
  'attention.position': ['attention.pos_key', 'attention.pos_query'],
  'attention.output': ['attention.output'],
  'attention.layernorm': ['attention.layernorm'],
  ffn: ['ffn.intermediate', 'ffn.output'],
  'ffn.intermediate': ['ffn.intermediate'],
  'ffn.output': ['ffn.output'],
  'ffn.layernorm': ['ffn.layernorm'],
  layernorm: ['attention.layernorm', 'ffn.layernorm'],
};

/** Parts outside the encoder layers by the names a spec may use. */
const GROUPS: Record<string, (component: string) => boolean> = {
  embeddings: (c) => c.startsWith('embeddings.'),
  'embeddings.word': (c) => c === 'embeddings.word',
  'embeddings.position': (c) => c === 'embeddings.position',
  'embeddings.token_type': (c) => c === 'embeddings.token_type',
  'embeddings.layernorm': (c) => c === 'embeddings.layernorm',
  'embeddings.projection': (c) => c === 'embeddings.projection',
  // DeBERTa's relative position embeddings; the encoder's own LayerNorm (DeBERTa's, on those embeddings;
  // ModernBERT's final norm).
  rel_embeddings: (c) => c === 'encoder.rel_embeddings',
  'encoder.layernorm': (c) => c === 'encoder.layernorm',
  pooler: (c) => c === 'pooler',
  classifier: (c) => c === 'classifier' || c === 'classifier.dense',
};

const WEIGHT_KINDS = new Set(['linear.weight', 'layernorm.weight', 'embedding']);

function fail(field: string, message: string): never {
  throw new HealbertError('ERR_CONFIG', `${field}: ${message}`);
}

/** Encoder layer indices for one selector, e.g. "bottom:3" -> [0, 1, 2]. */
export function layersOf(selector: LayerSelector, numLayers: number, field: string): number[] {
  return indicesOf(selector, numLayers, field, 'layer', (i) => `layer ${i} does not exist (the model has layers 0-${numLayers - 1})`);
}

/** Attention heads (of every selected layer) for one selector, as layers take them: 3, "2-5", "all", ... */
export function headsOf(selector: LayerSelector, numHeads: number, field: string): number[] {
  return indicesOf(
    selector,
    numHeads,
    field,
    'head',
    (i) => `head ${i} does not exist (the model has ${numHeads} heads, 0-${numHeads - 1})`,
  );
}

/** FFN neurons (rows of the intermediate weight) for one selector. */
export function neuronsOf(selector: LayerSelector, numNeurons: number, field: string): number[] {
  return indicesOf(
    selector,
    numNeurons,
    field,
    'neuron',
    (i) => `neuron ${i} does not exist (the model has ${numNeurons} FFN neurons, 0-${numNeurons - 1})`,
  );
}

/** Indices in [0, count) for one selector (an index, "a-b", "all", "none", "bottom:k", "top:k", "bottom:0.25"). */
function indicesOf(selector: LayerSelector, count: number, field: string, noun: string, missing: (i: number) => string): number[] {
  const numLayers = count;
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= numLayers) fail(field, missing(i));
    return i;
  };
  if (typeof selector === 'number') return [check(selector)];
  const s = selector.trim();
  if (s === 'all') return range(0, numLayers);
  if (s === 'none') return [];
  if (/^\d+$/.test(s)) return [check(Number(s))];
  const span = /^(\d+)-(\d+)$/.exec(s);
  if (span) {
    const [from, to] = [Number(span[1]), Number(span[2])];
    if (from > to) fail(field, `range "${s}" runs backwards`);
    check(from);
    check(to);
    return range(from, to + 1);
  }
  const edge = /^(bottom|top):(\d+(?:\.\d+)?)$/.exec(s);
  if (edge) {
    const amount = Number(edge[2]);
    let k: number;
    if (edge[2]?.includes('.')) {
      if (!(amount > 0 && amount <= 1)) fail(field, `"${s}": a share of the depth must be in (0, 1]`);
      k = Math.round(amount * numLayers);
    } else {
      k = amount;
    }
    if (k > numLayers) fail(field, `"${s}" asks for ${k} ${noun}s, but the model has ${numLayers}`);
    return edge[1] === 'bottom' ? range(0, k) : range(numLayers - k, numLayers);
  }
  return fail(field, `"${s}" is not a ${noun} selector (use all, none, 3, 2-5, bottom:3, top:2 or bottom:0.25)`);
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * A part of a tensor (flat, row-major): `count` runs of `length` entries, run r at offset + r * stride. One
 * attention head (`head`), or a run of consecutive FFN neurons [neurons[0], neurons[1]).
 */
export interface ParamSlice {
  offset: number;
  length: number;
  stride: number;
  count: number;
  head?: number;
  neurons?: [number, number];
}

export interface ResolvedTargets {
  /** Indices into the parameter list, ascending. */
  indices: number[];
  /** The encoder layers selected by `layers`. */
  layers: number[];
  /** Per index: the slices corrupted (heads or neurons), or null for the whole tensor. */
  slices: (ParamSlice[] | null)[];
  /** The heads selected by `heads` (empty when not given). */
  heads: number[];
  /** The FFN neurons selected by `neurons` (empty when not given). */
  neurons: number[];
}

/**
 * Where heads and neurons sit, by role (src/model/layout.ts): in the rows (output features) or the columns
 * (input features) of a tensor. A head owns rows h*d..(h+1)*d of query, key and value (weights and biases;
 * DeBERTa's position projections too) and those columns of the attention output's weight; in a fused qkv
 * projection it owns those rows of each third (three runs). Neuron i owns row i of the FFN input (weight and
 * bias), and row I + i too where the FFN is a GLU (its gate: the input's rows are 2I, two runs), and column i
 * of the FFN output's weight. The output biases are every head's and every neuron's: no slice of them is
 * anyone's, so they are left out.
 */
const HEAD_GEOMETRY: Record<string, 'rows' | 'columns'> = {
  'layer.query.weight': 'rows',
  'layer.query.bias': 'rows',
  'layer.key.weight': 'rows',
  'layer.key.bias': 'rows',
  'layer.value.weight': 'rows',
  'layer.value.bias': 'rows',
  'layer.qkv.weight': 'rows',
  'layer.qkv.bias': 'rows',
  'layer.pos_key.weight': 'rows',
  'layer.pos_key.bias': 'rows',
  'layer.pos_query.weight': 'rows',
  'layer.pos_query.bias': 'rows',
  'layer.attention_output.weight': 'columns',
};
const NEURON_GEOMETRY: Record<string, 'rows' | 'columns'> = {
  'layer.ffn_in.weight': 'rows',
  'layer.ffn_in.bias': 'rows',
  'layer.ffn_out.weight': 'columns',
};
/** The roles of the components layouts written before roles existed (tests' hand-made parameter lists). */
const ROLE_OF_COMPONENT: Record<string, string> = {
  'attention.query': 'layer.query',
  'attention.key': 'layer.key',
  'attention.value': 'layer.value',
  'attention.output': 'layer.attention_output',
  'ffn.intermediate': 'layer.ffn_in',
  'ffn.output': 'layer.ffn_out',
};
function roleOf(p: TargetParameter): string {
  if (p.role) return p.role;
  const base = ROLE_OF_COMPONENT[p.component];
  return base ? `${base}.${p.kind === 'linear.weight' ? 'weight' : 'bias'}` : '';
}
/** The components a head slices, and those a neuron slices. */
const HEAD_COMPONENTS = new Set([
  'attention.query',
  'attention.key',
  'attention.value',
  'attention.qkv',
  'attention.pos_key',
  'attention.pos_query',
  'attention.output',
]);
const NEURON_COMPONENTS = new Set(['ffn.intermediate', 'ffn.output']);

const selectorList = (value: LayerSelector | LayerSelector[] | undefined) =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Runs of consecutive indices: [1, 2, 3, 7] -> [[1, 4], [7, 8]] (half-open). */
function runsOf(sorted: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const i of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  return runs;
}

/**
 * The slices of one parameter for heads or neurons (HEAD_GEOMETRY, NEURON_GEOMETRY), or null when neither
 * cuts it (a layer norm, or an output bias every head or neuron shares). A row geometry over a tensor of
 * several blocks (a fused qkv: 3 x H rows; a GLU's input: 2 x I rows) cuts the same rows of every block: one
 * slice of `runs` runs, a block apart.
 */
function slicesOf(p: TargetParameter, heads: number[], neurons: number[], numHeads: number, numNeurons: number): ParamSlice[] | null {
  const shape = p.shape;
  if (!shape) throw new HealbertError('ERR_INTERNAL', `${p.name}: heads and neurons need parameter shapes`);
  const [rows, cols] = [shape[0] as number, (shape[1] ?? 1) as number];
  const role = roleOf(p);
  const blocks = (owners: number) => {
    if (owners <= 0 || rows % owners !== 0) throw new HealbertError('ERR_INTERNAL', `${p.name}: ${rows} rows for ${owners} owners`);
    return rows / owners;
  };
  const head = heads.length > 0 ? HEAD_GEOMETRY[role] : undefined;
  if (head) {
    // A head's width: the attention output's columns (H) or one block's rows over the heads.
    const runs = head === 'columns' ? 1 : role.startsWith('layer.qkv.') ? 3 : 1;
    const block = head === 'columns' ? cols : rows / runs;
    const d = block / numHeads;
    return heads.map((h) =>
      head === 'columns'
        ? { offset: h * d, length: d, stride: cols, count: rows, head: h }
        : { offset: h * d * cols, length: d * cols, stride: runs > 1 ? block * cols : 0, count: runs, head: h },
    );
  }
  const neuron = neurons.length > 0 ? NEURON_GEOMETRY[role] : undefined;
  if (neuron) {
    const runs = neuron === 'rows' ? blocks(numNeurons) : 1;
    return runsOf(neurons).map(([from, to]) =>
      neuron === 'columns'
        ? { offset: from, length: to - from, stride: cols, count: rows, neurons: [from, to] }
        : {
            offset: from * cols,
            length: (to - from) * cols,
            stride: runs > 1 ? numNeurons * cols : 0,
            count: runs,
            neurons: [from, to],
          },
    );
  }
  return null;
}

/**
 * A layer target that hits a tensor shared by several layers (ALBERT's layer groups) must hit all of them:
 * corrupting "layer 3" would corrupt every layer of its group. ERR_CONFIG naming the layers, with the remedy.
 */
function checkShared(p: TargetParameter, selected: Set<number>, field: string): void {
  const layers = p.layers ?? [p.layer];
  if (layers.length < 2 || layers.every((l) => selected.has(l))) return;
  const chosen = layers.filter((l) => selected.has(l));
  fail(
    field,
    `${p.name} is shared by layers ${layers.join(', ')}, so corrupting layer${chosen.length > 1 ? 's' : ''} ${chosen.join(', ')} would corrupt all of them; select all of them, or untie the layers first (untieLayers: true in the spec, --untie-layers on the command line) to give each layer its own copy`,
  );
}

/**
 * Which parameters (and which slices of them) a target spec selects. `dims` is needed when the spec names
 * heads or neurons (params then carry shapes). With heads or neurons, the layers' components are cut to the
 * attention matrices (heads) and the FFN matrices (neurons), and `layers` defaults to all; parameters that
 * `include` or `names` select stay whole.
 */
export function resolveTargets(
  targets: TargetSpec,
  params: TargetParameter[],
  numLayers: number,
  root = 'spec.targets',
  dims?: TargetDims,
): ResolvedTargets {
  const field = (key: 'layers' | 'heads' | 'neurons', i: number) =>
    Array.isArray(targets[key]) ? `${root}.${key}[${i}]` : `${root}.${key}`;
  const sliced = targets.heads !== undefined || targets.neurons !== undefined;
  if (sliced && !dims) throw new HealbertError('ERR_INTERNAL', 'heads and neurons need the model dims');
  const numHeads = dims?.numHeads ?? 1;
  const heads = [...new Set(selectorList(targets.heads).flatMap((s, i) => headsOf(s, numHeads, field('heads', i))))].sort((a, b) => a - b);
  const numNeurons = dims?.numNeurons ?? params.find((p) => roleOf(p) === 'layer.ffn_in.weight')?.shape?.[0] ?? 0;
  const neurons = [...new Set(selectorList(targets.neurons).flatMap((s, i) => neuronsOf(s, numNeurons, field('neurons', i))))].sort(
    (a, b) => a - b,
  );
  const selectors = targets.layers === undefined ? (sliced ? ['all'] : []) : selectorList(targets.layers);
  const layers = [...new Set(selectors.flatMap((s, i) => layersOf(s, numLayers, field('layers', i))))].sort((a, b) => a - b);
  const components = new Set<string>();
  for (const [i, name] of (targets.components ?? Object.keys(COMPONENTS)).entries()) {
    const parts = COMPONENTS[name];
    if (!parts) fail(`${root}.components[${i}]`, `unknown component "${name}" (known: ${Object.keys(COMPONENTS).join(', ')})`);
    for (const p of parts) components.add(p);
  }
  if (sliced) {
    // Heads and neurons cut the layers' components down to the matrices they slice.
    const cut = new Set([
      ...(targets.heads !== undefined ? HEAD_COMPONENTS : []),
      ...(targets.neurons !== undefined ? NEURON_COMPONENTS : []),
    ]);
    const kept = [...components].filter((c) => cut.has(c));
    if (kept.length === 0) {
      const what = targets.heads !== undefined ? 'heads' : 'neurons';
      fail(
        `${root}.${what}`,
        `the selected components have no matrix that ${what} slice (heads: attention.query|key|value|qkv|pos_key|pos_query|output; neurons: ffn.intermediate|output)`,
      );
    }
    components.clear();
    for (const c of kept) components.add(c);
  }
  const layerSet = new Set(layers);
  const selected = new Set<number>();
  const cutBySlices = new Set<number>();
  params.forEach((p, i) => {
    if (p.layer >= 0 && (p.layers ?? [p.layer]).some((l) => layerSet.has(l)) && components.has(p.component)) {
      checkShared(p, layerSet, `${root}.layers`);
      if (!sliced) selected.add(i);
      else if (slicesOf(p, heads, neurons, numHeads, numNeurons) !== null) {
        selected.add(i);
        cutBySlices.add(i);
      }
    }
  });
  for (const [i, group] of (targets.include ?? []).entries()) {
    const matches = GROUPS[group];
    if (!matches) fail(`${root}.include[${i}]`, `unknown part "${group}" (known: ${Object.keys(GROUPS).join(', ')})`);
    const hits = params.flatMap((p, j) => (p.layer < 0 && matches(p.component) ? [j] : []));
    if (hits.length === 0) fail(`${root}.include[${i}]`, `this model has no ${group}`);
    for (const j of hits) {
      selected.add(j);
      cutBySlices.delete(j);
    }
  }
  for (const [i, glob] of (targets.names ?? []).entries()) {
    const re = globToRegExp(glob);
    const hits = params.flatMap((p, j) => (re.test(p.name) ? [j] : []));
    if (hits.length === 0) fail(`${root}.names[${i}]`, `"${glob}" matches no parameter`);
    for (const j of hits) {
      selected.add(j);
      cutBySlices.delete(j);
    }
  }
  const kinds = targets.kinds ?? 'all';
  const indices = [...selected]
    .filter((i) => {
      const kind = (params[i] as TargetParameter).kind;
      return kinds === 'all' || (kinds === 'weights') === WEIGHT_KINDS.has(kind);
    })
    .sort((a, b) => a - b);
  if (indices.length === 0) fail(root, 'selects no parameters');
  const slices = indices.map((i) =>
    cutBySlices.has(i) ? slicesOf(params[i] as TargetParameter, heads, neurons, numHeads, numNeurons) : null,
  );
  return { indices, layers, slices, heads, neurons };
}
