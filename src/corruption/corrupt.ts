/**
 * corrupt(model, spec, {seed}): validates the spec and its targets against the model (nothing is touched
 * when anything is wrong), corrupts in place on the model's device, and reports what changed: per tensor
 * and per layer, entries changed and the norm of the change against the norm before.
 */
import { HealbertError } from '../errors.js';
import type { Model } from '../model/model.js';
import { type CorruptionSpec, type ResolvedCorruptionSpec, resolveCorruptionSpec } from './spec.js';
import { type ParamSlice, resolveTargets } from './targets.js';

/** What a corruption changed in one tensor: entries selected and changed, and the norm of the change against the norm before. */
export interface TensorChange {
  name: string;
  layer: number;
  /** A tensor that several layers share (ALBERT's layer groups): every layer the corruption hit through it. */
  sharedBy?: number[];
  component: string;
  numel: number;
  /** Entries inside the seeded fraction mask. */
  selected: number;
  /** Entries whose value differs afterwards (null when the report was skipped). */
  changed: number | null;
  normBefore: number | null;
  normChange: number | null;
  /** normChange / normBefore. */
  relativeChange: number | null;
  /** NaN or infinite entries afterwards. */
  nonFinite: number | null;
  bitsFlipped: number;
  /** A tensor cut by heads or neurons: its slices, each with its entries in the mask and those changed. */
  slices?: SliceChange[];
}

/** What a corruption changed in one slice of a tensor (an attention head, or a run of FFN neurons). */
export interface SliceChange {
  /** The attention head, or the run of consecutive FFN neurons [from, to). */
  head?: number;
  neurons?: [number, number];
  numel: number;
  selected: number;
  changed: number | null;
}

/** One attention head of one layer: its slices of every corrupted tensor together. */
export interface HeadChange {
  layer: number;
  head: number;
  tensors: number;
  numel: number;
  selected: number;
  changed: number | null;
}

/** What a corruption changed in one part of the model (the embeddings, a layer, the pooler, the head), summed over its tensors. */
export interface GroupChange extends Omit<TensorChange, 'name' | 'layer' | 'component'> {
  /** "embeddings", "layer 3", "layers 0, 1, 2 (shared)", "pooler", "head". */
  group: string;
  layer: number;
  tensors: number;
}

/** What {@link corrupt} did: the resolved spec, the seed, and the changes per tensor, per layer, per head and in total. */
export interface CorruptionReport {
  spec: ResolvedCorruptionSpec;
  seed: number;
  device: string;
  layers: number[];
  tensors: TensorChange[];
  groups: GroupChange[];
  /** Per (layer, head), when the spec names heads: the entries changed in that head's slices. */
  heads?: HeadChange[];
  total: Omit<GroupChange, 'group' | 'layer'>;
  /**
   * The corruption on the device, synchronised. On the CPU the exact report is gathered in the same pass,
   * so it is included; on other devices it is not.
   */
  milliseconds: number;
  /** The random stream (2: counter-based per tensor name; results of another stream are not comparable). */
  streamVersion: number;
  /** What the corruption reaches beyond its tensors (DeBERTa's shared position projections); absent when nothing. */
  notes?: string[];
  /** How it ran: the fused CPU pass, the counter kernel (CUDA, or its body on the host), or tensor ops. */
  path: 'fused' | 'kernel' | 'tensor-ops';
}

/** Options of {@link corrupt}: the seed (required: corruption is always seeded) and the fleet member. */
export interface CorruptOptions {
  seed: number;
  /**
   * The fleet member to corrupt (Model.load(dir, { members })); default 0. A member gets exactly the noise
   * the same model alone gets with this seed.
   */
  member?: number;
  /** Count changed entries and norms exactly (default). Off for benchmarks: only the corruption runs. */
  report?: boolean;
  /** Apply with tensor ops, the path of non-CPU devices, even on the CPU (same bytes; for tests). */
  tensorOps?: boolean;
  /** Run the CUDA kernel's body on the CPU, counter by counter (same bytes; for tests without a GPU). */
  kernelOnHost?: boolean;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

function groupOf(layer: number, component: string): string {
  if (layer >= 0) return `layer ${layer}`;
  if (component.startsWith('embeddings')) return 'embeddings';
  if (component.startsWith('encoder.')) return 'encoder';
  return component === 'pooler' ? 'pooler' : 'head';
}

/**
 * What a corruption reaches beyond the tensors it names, where the architecture says: in DeBERTa with
 * share_att_key, a layer's query and key projections also project the relative position embeddings, so a head's
 * (or any) query and key rows feed its position-to-content and content-to-position terms too.
 */
function reachNotes(model: Model, tensors: { role?: string; layer: number }[]): string[] {
  const relative = model.config.relative;
  if (!relative?.shareKeys) return [];
  const layers = [...new Set(tensors.filter((t) => /^layer\.(query|key)\./.test(t.role ?? '')).map((t) => t.layer))];
  if (layers.length === 0) return [];
  const terms = [relative.c2p ? 'content-to-position (keys)' : '', relative.p2c ? 'position-to-content (queries)' : '']
    .filter(Boolean)
    .join(' and ');
  return [
    `share_att_key: the query and key projections of layer${layers.length > 1 ? 's' : ''} ${layers.join(', ')} also project the relative position embeddings, so this corruption also changes the ${terms} terms of the heads it hits`,
  ];
}

function aggregate(tensors: TensorChange[]): Omit<GroupChange, 'group' | 'layer'> {
  const sum = (f: (t: TensorChange) => number | null) => {
    let total = 0;
    for (const t of tensors) {
      const v = f(t);
      if (v === null) return null;
      total += v;
    }
    return total;
  };
  const normBeforeSq = sum((t) => (t.normBefore === null ? null : t.normBefore ** 2));
  const normChangeSq = sum((t) => (t.normChange === null ? null : t.normChange ** 2));
  const normBefore = normBeforeSq === null ? null : Math.sqrt(normBeforeSq);
  const normChange = normChangeSq === null ? null : Math.sqrt(normChangeSq);
  return {
    tensors: tensors.length,
    numel: sum((t) => t.numel) ?? 0,
    selected: sum((t) => t.selected) ?? 0,
    changed: sum((t) => t.changed),
    normBefore,
    normChange,
    relativeChange: normBefore && normChange !== null ? normChange / normBefore : null,
    nonFinite: sum((t) => t.nonFinite),
    bitsFlipped: sum((t) => t.bitsFlipped) ?? 0,
  };
}

function sliceChanges(
  cut: ParamSlice[],
  t: { sliceSelected?: number[]; sliceChanged?: number[] },
  exact: boolean,
  fraction: number,
): SliceChange[] {
  return cut.map((s, k) => ({
    ...(s.head !== undefined ? { head: s.head } : {}),
    ...(s.neurons ? { neurons: s.neurons } : {}),
    numel: s.length * s.count,
    selected: exact ? (t.sliceSelected?.[k] ?? 0) : Math.round(s.length * s.count * fraction),
    changed: exact ? (t.sliceChanged?.[k] ?? null) : null,
  }));
}

/** The head slices of every tensor summed per (layer, head), in layer then head order. */
function headChanges(tensors: TensorChange[]): HeadChange[] {
  const byKey = new Map<string, HeadChange>();
  for (const t of tensors) {
    for (const s of t.slices ?? []) {
      if (s.head === undefined) continue;
      const key = `${t.layer}:${s.head}`;
      const h = byKey.get(key) ?? { layer: t.layer, head: s.head, tensors: 0, numel: 0, selected: 0, changed: 0 };
      h.tensors += 1;
      h.numel += s.numel;
      h.selected += s.selected;
      h.changed = h.changed === null || s.changed === null ? null : h.changed + s.changed;
      byKey.set(key, h);
    }
  }
  return [...byKey.values()].sort((a, b) => a.layer - b.layer || a.head - b.head);
}

/**
 * Corrupts a model's parameters in place as the spec says (validated first, see {@link corruptionSpecSchema}), with
 * random numbers that depend only on the seed and each tensor's name, and reports what changed.
 */
export async function corrupt(model: Model, input: CorruptionSpec | unknown, options: CorruptOptions): Promise<CorruptionReport> {
  const spec = resolveCorruptionSpec(input);
  const seed = options.seed;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new HealbertError('ERR_CONFIG', `seed must be a non-negative integer, got ${seed}`);
  const params = model.parameters();
  const { indices, layers, slices } = resolveTargets(spec.targets, params, model.config.numLayers, 'spec.targets', {
    numHeads: model.config.numHeads,
    numNeurons: model.config.intermediateSize,
  });
  const sliced = slices.some((s) => s !== null);
  if (spec.method === 'revert' && !model.snapshots().includes(spec.snapshot as string)) {
    throw new HealbertError(
      'ERR_CONFIG',
      `spec.snapshot: the model has no snapshot "${spec.snapshot}" (has: ${model.snapshots().join(', ') || 'none'})`,
    );
  }
  const exact = options.report ?? true;
  const result = await model.corruptNative({
    method: spec.method,
    targets: indices,
    ...(sliced ? { slices: slices.map((list) => (list ?? []).flatMap((s) => [s.offset, s.length, s.stride, s.count])) } : {}),
    level: spec.level,
    relative: spec.relative,
    init: spec.init,
    fraction: spec.fraction,
    exponentBitsOnly: spec.bits === 'exponent',
    ...(spec.snapshot ? { snapshot: spec.snapshot } : {}),
    seed,
    exactReport: exact,
    ...(options.tensorOps ? { tensorOps: true } : {}),
    ...(options.kernelOnHost ? { kernelOnHost: true } : {}),
    member: model.checkMember(options.member, 'corrupt'),
  });
  const tensors: TensorChange[] = result.tensors.map((t, j) => {
    const p = params[t.index];
    if (!p) throw new HealbertError('ERR_INTERNAL', `report for unknown parameter ${t.index}`);
    const cut = slices[j];
    return {
      name: p.name,
      layer: p.layer,
      ...(p.layers.length > 1 ? { sharedBy: [...p.layers] } : {}),
      component: p.component,
      numel: t.numel,
      selected: exact ? t.selected : Math.round(t.numel * spec.fraction),
      changed: exact ? t.changed : null,
      normBefore: exact ? finite(t.normBefore) : null,
      normChange: exact ? finite(t.normChange) : null,
      relativeChange: exact && t.normBefore > 0 && Number.isFinite(t.normChange) ? t.normChange / t.normBefore : null,
      nonFinite: exact ? t.nonFinite : null,
      bitsFlipped: t.bitsFlipped,
      ...(cut ? { slices: sliceChanges(cut, t, exact, spec.fraction) } : {}),
    };
  });
  const byGroup = new Map<string, TensorChange[]>();
  for (const t of tensors) {
    const g = t.sharedBy ? `layers ${t.sharedBy.join(', ')} (shared)` : groupOf(t.layer, t.component);
    byGroup.set(g, [...(byGroup.get(g) ?? []), t]);
  }
  const groups = [...byGroup.entries()].map(([group, members]) => ({
    group,
    layer: (members[0] as TensorChange).layer >= 0 ? (members[0] as TensorChange).layer : -1,
    ...aggregate(members),
  }));
  const heads = headChanges(tensors);
  const notes = reachNotes(
    model,
    result.tensors.map((t) => params[t.index] as { role: string; layer: number }),
  );
  return {
    spec,
    seed,
    device: model.device,
    layers,
    tensors,
    groups,
    ...(heads.length > 0 ? { heads } : {}),
    total: aggregate(tensors),
    milliseconds: result.milliseconds,
    streamVersion: result.streamVersion,
    ...(notes.length > 0 ? { notes } : {}),
    path: result.kernel ? 'kernel' : result.fused ? 'fused' : 'tensor-ops',
  };
}
