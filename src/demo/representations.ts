/**
 * The demo's representation view: where re-initialising the bottom or the top layers damages the
 * representations, and where the damage remains after healing. A compact table of CKA by layer, before ->
 * after, mean over seeds (the report draws the same with intervals: figures cka-by-layer-*).
 */
import type { Analysis } from '../analysis/analyze.js';
import type { Pooling } from '../measure/types.js';
import type { Protocol } from '../sweep/types.js';

const REFERENCES: Record<Protocol, { before: string; after: string }> = {
  pretrained: { before: 'clean pre-trained vs corrupted', after: 'clean fine-tuned (same seed) vs corrupted fine-tuned' },
  finetuned: { before: 'task model vs corrupted', after: 'task model vs healed (the control: what healing alone changes)' },
};

const two = (x: number | null | undefined) => (x === null || x === undefined ? ' n/a' : x.toFixed(2));

/** Lines of section 4, or none when the sweep measured no CKA. */
export function representationLines(analysis: Analysis, protocol: Protocol, section: number): string[] {
  const rows = analysis.measurements.cka;
  if (rows.length === 0) return [];
  const conditions = analysis.groups
    .filter((g) => (g.config.corruption?.method === 'reinit' || g.config.control) && rows.some((r) => r.condition === g.label))
    .map((g) => g.label);
  if (conditions.length === 0) return [];
  const estimator = analysis.cells.find((c) => c.config.measure?.cka)?.config.measure?.cka;
  const seeds = Math.max(...rows.map((r) => r.cka.n));
  const layers = [...new Set(rows.map((r) => r.layer))].sort((a, b) => a - b);
  const refs = REFERENCES[protocol];
  const lines = [
    `${section}. Where does the damage sit, and where does it remain?  (${protocol} protocol; ${estimator?.estimator ?? 'linear'} CKA of each layer's representations of ${estimator?.examples ?? '?'} dev examples, before -> after healing, mean over up to ${seeds} seeds; before: ${refs.before}; after: ${refs.after}; 1 = the same representations up to rotation and scale)`,
  ];
  const width = Math.max(...conditions.map((c) => c.length), 10);
  const value = (condition: string, comparison: 'beforeHealing' | 'afterHealing', pooling: Pooling, layer: number) =>
    rows.find((r) => r.condition === condition && r.comparison === comparison && r.pooling === pooling && r.layer === layer)?.cka.mean;
  for (const [pooling, title] of [
    ['first', 'first token ([CLS], what the classifier reads)'],
    ['mean', 'mean over tokens'],
  ] as const) {
    const shown = layers.filter((l) => pooling === 'mean' || l >= 0); // the embeddings' first token is the same for every example
    lines.push(`   ${title}`);
    lines.push(
      `   ${'corruption'.padEnd(width)}  ${shown.map((l) => (l < 0 ? 'embeddings' : `layer ${l}`).padEnd(12)).join('')}`.trimEnd(),
    );
    for (const condition of conditions) {
      const cells = shown.map((l) => {
        const before = value(condition, 'beforeHealing', pooling, l);
        const after = value(condition, 'afterHealing', pooling, l);
        return (before === undefined ? `  -> ${two(after)}` : `${two(before)}->${two(after)}`).padEnd(12);
      });
      lines.push(`   ${condition.padEnd(width)}  ${cells.join('')}`.trimEnd());
    }
  }
  return lines;
}
