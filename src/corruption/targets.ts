/**
 * Which parameters a target spec selects, resolved against a model's parameter list. Pure: no addon.
 * Every impossible request (a layer that does not exist, an unknown component, a glob that matches
 * nothing) is an ERR_CONFIG error naming the field.
 */
import { HealbertError } from '../errors.js';
import type { LayerSelector, TargetSpec } from './spec.js';

export interface TargetParameter {
  name: string;
  layer: number;
  component: string;
  kind: string;
}

/** Layer components by the names a spec may use. */
const COMPONENTS: Record<string, string[]> = {
  attention: ['attention.query', 'attention.key', 'attention.value', 'attention.output'],
  'attention.query': ['attention.query'],
  'attention.key': ['attention.key'],
  'attention.value': ['attention.value'],
  'attention.output': ['attention.output'],
  'attention.layernorm': ['attention.layernorm'],
  ffn: ['ffn.intermediate', 'ffn.output'],
  'ffn.intermediate': ['ffn.intermediate'],
  'ffn.output': ['ffn.output'],
  'ffn.layernorm': ['ffn.layernorm'],
  layernorm: ['attention.layernorm', 'ffn.layernorm'],
};

/** Parts outside the encoder by the names a spec may use. */
const GROUPS: Record<string, (component: string) => boolean> = {
  embeddings: (c) => c.startsWith('embeddings.'),
  'embeddings.word': (c) => c === 'embeddings.word',
  'embeddings.position': (c) => c === 'embeddings.position',
  'embeddings.token_type': (c) => c === 'embeddings.token_type',
  'embeddings.layernorm': (c) => c === 'embeddings.layernorm',
  pooler: (c) => c === 'pooler',
  classifier: (c) => c === 'classifier' || c === 'classifier.dense',
};

const WEIGHT_KINDS = new Set(['linear.weight', 'layernorm.weight', 'embedding']);

function fail(field: string, message: string): never {
  throw new HealbertError('ERR_CONFIG', `${field}: ${message}`);
}

/** Encoder layer indices for one selector, e.g. "bottom:3" -> [0, 1, 2]. */
export function layersOf(selector: LayerSelector, numLayers: number, field: string): number[] {
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= numLayers) {
      fail(field, `layer ${i} does not exist (the model has layers 0-${numLayers - 1})`);
    }
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
    if (k > numLayers) fail(field, `"${s}" asks for ${k} layers, but the model has ${numLayers}`);
    return edge[1] === 'bottom' ? range(0, k) : range(numLayers - k, numLayers);
  }
  return fail(field, `"${s}" is not a layer selector (use all, none, 3, 2-5, bottom:3, top:2 or bottom:0.25)`);
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export interface ResolvedTargets {
  /** Indices into the parameter list, ascending. */
  indices: number[];
  /** The encoder layers selected by `layers`. */
  layers: number[];
}

export function resolveTargets(targets: TargetSpec, params: TargetParameter[], numLayers: number, root = 'spec.targets'): ResolvedTargets {
  const selectors = targets.layers === undefined ? [] : Array.isArray(targets.layers) ? targets.layers : [targets.layers];
  const layers = [
    ...new Set(
      selectors.flatMap((s, i) => layersOf(s, numLayers, Array.isArray(targets.layers) ? `${root}.layers[${i}]` : `${root}.layers`)),
    ),
  ].sort((a, b) => a - b);
  const components = new Set<string>();
  for (const [i, name] of (targets.components ?? Object.keys(COMPONENTS)).entries()) {
    const parts = COMPONENTS[name];
    if (!parts) fail(`${root}.components[${i}]`, `unknown component "${name}" (known: ${Object.keys(COMPONENTS).join(', ')})`);
    for (const p of parts) components.add(p);
  }
  const layerSet = new Set(layers);
  const selected = new Set<number>();
  params.forEach((p, i) => {
    if (p.layer >= 0 && layerSet.has(p.layer) && components.has(p.component)) selected.add(i);
  });
  for (const [i, group] of (targets.include ?? []).entries()) {
    const matches = GROUPS[group];
    if (!matches) fail(`${root}.include[${i}]`, `unknown part "${group}" (known: ${Object.keys(GROUPS).join(', ')})`);
    const hits = params.flatMap((p, j) => (p.layer < 0 && matches(p.component) ? [j] : []));
    if (hits.length === 0) fail(`${root}.include[${i}]`, `this model has no ${group}`);
    for (const j of hits) selected.add(j);
  }
  for (const [i, glob] of (targets.names ?? []).entries()) {
    const re = globToRegExp(glob);
    const hits = params.flatMap((p, j) => (re.test(p.name) ? [j] : []));
    if (hits.length === 0) fail(`${root}.names[${i}]`, `"${glob}" matches no parameter`);
    for (const j of hits) selected.add(j);
  }
  const kinds = targets.kinds ?? 'all';
  const indices = [...selected]
    .filter((i) => {
      const kind = (params[i] as TargetParameter).kind;
      return kinds === 'all' || (kinds === 'weights') === WEIGHT_KINDS.has(kind);
    })
    .sort((a, b) => a - b);
  if (indices.length === 0) fail(root, 'selects no parameters');
  return { indices, layers };
}
