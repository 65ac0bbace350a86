/**
 * Which protocol a table's residual gap and recovery ratio come from. The two protocols define the gap
 * against different references (the clean cell fine-tuned alike; the control healed alike), so every
 * table and figure that shows them says which one it shows.
 */
import type { Analysis } from '../analysis/analyze.js';
import type { Protocol } from '../sweep/types.js';

const GAP: Record<Protocol, string> = {
  pretrained: 'pretrained protocol: residual gap = clean final - corrupted final',
  finetuned: 'finetuned protocol: residual gap = control final - corrupted final (the control: the task model healed alike, uncorrupted)',
};

/** The protocols of an analysis's cells, in a fixed order. */
export const protocolsOf = (a: Analysis): Protocol[] =>
  (['pretrained', 'finetuned'] as const).filter((p) => a.cells.some((c) => c.config.protocol === p));

/** "finetuned protocol: residual gap = ...", one clause per protocol present ("; " between). */
export function protocolNote(a: Analysis): string {
  const protocols = protocolsOf(a);
  return protocols.length ? protocols.map((p) => GAP[p]).join('; ') : 'no cells';
}

/** A title followed by the protocol it shows, e.g. "Conditions (...) [finetuned protocol: ...]". */
export const withProtocol = (title: string, a: Analysis) => `${title} [${protocolNote(a)}]`;
