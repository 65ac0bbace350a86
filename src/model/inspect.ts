/**
 * What a model folder holds, without loading its weights: the architecture, the parameter counts by
 * layer and component, and how its checkpoint maps onto healbert's parameters.
 */
import { join } from 'node:path';
import { locateWeightFiles, planLoad } from './checkpoint.js';
import { type EngineConfig, engineConfig, readRawConfig } from './config.js';
import { layoutOf } from './layout.js';
import { readSafetensorsHeader } from './safetensors.js';

/** What `healbert inspect` prints: the configuration, the weight files, and parameter counts by layer and component. */
export interface ModelSummary {
  dir: string;
  config: EngineConfig;
  modelType: string;
  files: { path: string; bytes: number; dtypes: string[] }[];
  totalParameters: number;
  /**
   * Rows: 'embeddings', 'layer 0' ... 'layer N-1' (or shared groups: 'layers 0-11 (shared)'), 'encoder' (DeBERTa's
   * relative embeddings and their norm, ModernBERT's final norm), 'pooler', 'head'.
   */
  groups: { group: string; parameters: number; byComponent: Record<string, number> }[];
  initialised: string[];
  ignored: string[];
  unexpected: string[];
  /** What ignored tensors were, where the family says (an ELECTRA folder's detection head, say). */
  notes: string[];
}

function groupOf(p: { layer: number; layers: number[]; component: string }): string {
  if (p.layers.length > 1) return `layers ${p.layers[0]}-${p.layers.at(-1)} (shared)`;
  if (p.layer >= 0) return `layer ${p.layer}`;
  if (p.component.startsWith('embeddings')) return 'embeddings';
  if (p.component.startsWith('encoder.')) return 'encoder';
  if (p.component === 'pooler') return 'pooler';
  return 'head';
}

/** Describes a model folder without loading its weights (the safetensors headers only). */
export async function inspectModel(dir: string): Promise<ModelSummary> {
  const files = await locateWeightFiles(dir);
  const raw = await readRawConfig(dir);
  const config = engineConfig(raw, join(dir, 'config.json'));
  const layout = layoutOf(config);
  const plan = await planLoad(files, config.arch, layout);
  const groups = new Map<string, { group: string; parameters: number; byComponent: Record<string, number> }>();
  for (const p of layout) {
    const numel = p.shape.reduce((a, b) => a * b, 1);
    const name = groupOf(p);
    const g = groups.get(name) ?? { group: name, parameters: 0, byComponent: {} };
    g.parameters += numel;
    g.byComponent[p.component] = (g.byComponent[p.component] ?? 0) + numel;
    groups.set(name, g);
  }
  const fileInfo = [];
  for (const path of files) {
    const header = await readSafetensorsHeader(path);
    fileInfo.push({ path, bytes: header.fileSize, dtypes: [...new Set([...header.tensors.values()].map((t) => t.dtype))].sort() });
  }
  return {
    dir,
    config,
    modelType: String(raw.model_type),
    files: fileInfo,
    totalParameters: [...groups.values()].reduce((s, g) => s + g.parameters, 0),
    groups: [...groups.values()],
    initialised: plan.initialised,
    ignored: plan.ignored,
    unexpected: plan.unexpected,
    notes: plan.notes,
  };
}
