/**
 * The targets of a scan, one per layer, per component, or per (layer, component), each resolved against the
 * model's parameters before anything runs. Pure: no addon. Errors name the option (`scan.layers`,
 * `scan.components[1]`, ...), which the CLI turns into its flag.
 */
import type { LayerSelector } from '../corruption/spec.js';
import { headsOf, layersOf, resolveTargets, type TargetDims, type TargetParameter } from '../corruption/targets.js';
import { HealbertError } from '../errors.js';
import type { ScanEach, ScanTarget } from './types.js';

/**
 * The components a component scan walks by default: the finest parts of a layer, which do not overlap,
 * so the scan partitions each layer (every BERT, RoBERTa and DistilBERT layer has all eight).
 */
export const SCAN_COMPONENTS = [
  'attention.query',
  'attention.key',
  'attention.value',
  'attention.output',
  'attention.layernorm',
  'ffn.intermediate',
  'ffn.output',
  'ffn.layernorm',
] as const;

/**
 * The default walk, of which a scan takes the components the model has: BERT's eight, ModernBERT's fused
 * attention.qkv (instead of query, key and value; its layer 0 has no attention norm), DeBERTa's position
 * projections (without share_att_key).
 */
const DEFAULT_COMPONENTS = [
  'attention.query',
  'attention.key',
  'attention.value',
  'attention.qkv',
  'attention.pos_key',
  'attention.pos_query',
  ...SCAN_COMPONENTS.slice(3),
];

/** What one scan target can be: a layer, a component, a component of one layer, a head or a group of neurons. */
export const SCAN_EACH: readonly ScanEach[] = ['layer', 'component', 'layer.component', 'head', 'neuron'];

/** each 'neuron': groups per layer when not given (bert-base: 8 groups of 384 neurons). */
export const DEFAULT_NEURON_GROUPS = 8;

/** A scan target with the indices of the parameters it corrupts. */
export interface ResolvedScanTarget extends ScanTarget {
  /** Indices into the model's parameter list. */
  indices: number[];
}

/** What {@link expandScanTargets} expands: what one target is, and the layers, components, kinds, heads and neuron groups. */
export interface ScanTargetOptions {
  each: ScanEach;
  layers?: LayerSelector | LayerSelector[] | undefined;
  components?: string[] | undefined;
  kinds?: 'all' | 'weights' | 'biases' | undefined;
  heads?: LayerSelector | LayerSelector[] | undefined;
  neuronGroups?: number | undefined;
}

const fail = (field: string, message: string): never => {
  throw new HealbertError('ERR_CONFIG', `scan.${field}: ${message}`);
};

/** The layers scanned, ascending. */
export function scanLayers(selector: LayerSelector | LayerSelector[] | undefined, numLayers: number): number[] {
  const list = selector === undefined ? ['all'] : Array.isArray(selector) ? selector : [selector];
  if (list.length === 0) fail('layers', 'selects no layers');
  const layers = [...new Set(list.flatMap((s) => layersOf(s, numLayers, 'scan.layers')))].sort((a, b) => a - b);
  if (layers.length === 0) fail('layers', 'selects no layers');
  return layers;
}

/** The heads scanned, ascending. */
export function scanHeads(selector: LayerSelector | LayerSelector[] | undefined, numHeads: number): number[] {
  const list = selector === undefined ? ['all'] : Array.isArray(selector) ? selector : [selector];
  const heads = [...new Set(list.flatMap((s) => headsOf(s, numHeads, 'scan.heads')))].sort((a, b) => a - b);
  if (heads.length === 0) fail('heads', 'selects no heads');
  return heads;
}

/** Groups of consecutive neurons [from, to): `groups` as equal as integers allow. */
export function neuronGroups(groups: number, numNeurons: number): [number, number][] {
  if (!Number.isInteger(groups) || groups < 1 || groups > numNeurons)
    fail('neuronGroups', `must be an integer from 1 to ${numNeurons} (the model's FFN neurons), got ${groups}`);
  return Array.from({ length: groups }, (_, g) => [Math.round((g * numNeurons) / groups), Math.round(((g + 1) * numNeurons) / groups)]);
}

/** The scan's targets, in order: one per layer, component, (layer, component), (layer, head) or (layer, neuron group). */
export function expandScanTargets(
  options: ScanTargetOptions,
  params: TargetParameter[],
  numLayers: number,
  dims: TargetDims = { numHeads: 1 },
): ResolvedScanTarget[] {
  if (!SCAN_EACH.includes(options.each))
    fail('each', `must be one of ${SCAN_EACH.join(', ')}, got ${JSON.stringify(options.each as unknown)}`);
  if (options.kinds !== undefined && !['all', 'weights', 'biases'].includes(options.kinds))
    fail('kinds', `must be all, weights or biases, got ${JSON.stringify(options.kinds)}`);
  const layers = scanLayers(options.layers, numLayers);
  if (options.heads !== undefined && options.each !== 'head') fail('heads', 'only a head scan (each: head) takes heads');
  if (options.neuronGroups !== undefined && options.each !== 'neuron')
    fail('neuronGroups', 'only a neuron scan (each: neuron) takes neuron groups');
  if (options.each === 'head' || options.each === 'neuron') return sliceTargets(options, params, numLayers, dims, layers);
  if (options.components !== undefined && options.components.length === 0) fail('components', 'lists no components');
  const perComponent = options.each !== 'layer';
  const inLayer = (c: string, among: number[]) =>
    params.some((p) => p.component === c && (p.layers ?? [p.layer]).some((l) => among.includes(l)));
  const components = options.components ?? (perComponent ? DEFAULT_COMPONENTS.filter((c) => inLayer(c, layers)) : undefined);
  if (components) {
    const seen = new Set<string>();
    for (const [i, c] of components.entries()) {
      if (seen.has(c)) fail(`components[${i}]`, `"${c}" is listed twice`);
      seen.add(c);
    }
  }
  const kinds = options.kinds ?? 'all';
  // Each component on its own first, so that an error names the entry (scan.components[2]: unknown ...).
  for (const [i, c] of (components ?? []).entries()) {
    try {
      resolveTargets({ layers, components: [c], ...(kinds !== 'all' ? { kinds } : {}) }, params, numLayers, 'scan');
    } catch (error) {
      const message = (error as Error).message.replace(/^scan(\.components\[0\])?:/, '');
      fail(`components[${i}]`, message.trim().startsWith('unknown') ? message.trim() : `"${c}"${message}`);
    }
  }
  const make = (label: string, layer: number | null, component: string | null, layerSel: number | number[], comps?: string[]) => {
    const targets = { layers: layerSel, ...(comps ? { components: comps } : {}), ...(kinds !== 'all' ? { kinds } : {}) };
    const { indices } = resolveTargets(targets, params, numLayers, 'scan');
    return { label, layer, component, targets, indices };
  };
  switch (options.each) {
    case 'layer':
      return layers.map((l) => make(`layer ${l}`, l, null, l, components));
    case 'component':
      return (components as string[]).map((c) => make(c, null, c, layers, [c]));
    default:
      // By default, only the components each layer has (ModernBERT's layer 0 has no attention norm).
      return layers.flatMap((l) =>
        (components as string[])
          .filter((c) => options.components !== undefined || inLayer(c, [l]))
          .map((c) => make(`layer ${l} ${c}`, l, c, l, [c])),
      );
  }
}

/** One target per (layer, head) or per (layer, neuron group), restricted by components and kinds. */
function sliceTargets(
  options: ScanTargetOptions,
  params: TargetParameter[],
  numLayers: number,
  dims: TargetDims,
  layers: number[],
): ResolvedScanTarget[] {
  const kinds = options.kinds ?? 'all';
  const extra = { ...(options.components ? { components: options.components } : {}), ...(kinds !== 'all' ? { kinds } : {}) };
  const resolve = (label: string, layer: number, slice: { heads: number } | { neurons: string }) => {
    const targets = { layers: layer, ...slice, ...extra };
    const { indices } = resolveTargets(targets, params, numLayers, 'scan', dims);
    return { label, layer, component: null, targets, indices };
  };
  if (options.each === 'head') {
    const heads = scanHeads(options.heads, dims.numHeads);
    return layers.flatMap((l) => heads.map((h) => ({ ...resolve(`layer ${l} head ${h}`, l, { heads: h }), head: h })));
  }
  const numNeurons =
    dims.numNeurons ?? params.find((p) => p.component === 'ffn.intermediate' && p.kind === 'linear.weight')?.shape?.[0] ?? 0;
  const groups = neuronGroups(options.neuronGroups ?? DEFAULT_NEURON_GROUPS, numNeurons);
  return layers.flatMap((l) =>
    groups.map(([from, to]) => ({
      ...resolve(`layer ${l} neurons ${from}-${to - 1}`, l, { neurons: `${from}-${to - 1}` }),
      neurons: [from, to] as [number, number],
    })),
  );
}
