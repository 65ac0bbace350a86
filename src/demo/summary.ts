/**
 * The demo's answer to the paper's three questions, from the analysis of its sweep: does corruption fully
 * heal, is bottom-layer corruption worse than top-layer corruption, how does recovery fall with the level.
 * Every number comes with its 95% bootstrap interval over seeds and the number of seeds.
 *
 * The questions are the same under both protocols, the quantities are not: every heading says which
 * protocol it shows and what damage and residual gap mean there (as src/analysis/definitions.ts). Under
 * finetuned the control (the task model healed, uncorrupted) is the reference the gaps are taken against:
 * it is shown beside the task model on the first line, never as a row of the corruption table.
 */
import type { Analysis } from '../analysis/analyze.js';
import type { GroupSummary } from '../analysis/groups.js';
import type { Summary } from '../analysis/stats.js';
import { HealbertError } from '../errors.js';
import { findingText } from '../report/tables.js';
import type { Protocol } from '../sweep/types.js';
import { representationLines } from './representations.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}`);
const withCi = (s: Summary) => (s.mean === null ? 'n/a' : `${pct(s.mean)} [${pct(s.ci?.low)}, ${pct(s.ci?.high)}]`);
const n = (s: Summary | undefined) => `n=${s?.n ?? 0}`;

/** What each protocol's quantities are, in the words of the headings. */
const TERMS: Record<Protocol, { damage: string; gap: string; recovered: string }> = {
  pretrained: {
    damage: 'damage = clean minus corrupted linear-probe score, before fine-tuning',
    gap: 'residual gap = clean fine-tuned minus corrupted fine-tuned',
    recovered: 'recovered = corrupted fine-tuned',
  },
  finetuned: {
    damage: 'damage = task model before minus after corruption',
    gap: 'residual gap = control healed minus corrupted healed',
    recovered: 'recovered = corrupted healed',
  },
};

function headline(protocol: Protocol, clean: GroupSummary | undefined, control: GroupSummary | undefined, metric: string): string {
  const start = `SST-2 dev ${metric} (%), mean [95% CI] over seeds, ${protocol} protocol;`;
  if (protocol === 'pretrained')
    return `${start} clean model fine-tuned: ${clean ? withCi(clean.cleanScore) : 'n/a'} (${n(clean?.cleanScore)})`;
  const heal = clean?.config.recovery.healEpochs ?? control?.config.recovery.healEpochs;
  return (
    `${start} task model (clean model fine-tuned): ${clean ? withCi(clean.cleanScore) : 'n/a'} (${n(clean?.cleanScore)}); ` +
    `control (task model healed ${heal} more epoch${heal === 1 ? '' : 's'}, uncorrupted): ${control ? withCi(control.controlScore) : 'n/a'} (${n(control?.controlScore)})`
  );
}

/** The analysis of one demo folder; `protocol` is the demo's (default: the protocol of its cells). */
export function demoSummary(analysis: Analysis, protocol?: Protocol): string {
  const protocols = [...new Set(analysis.groups.map((g) => g.protocol))];
  if (protocols.length > 1 || (protocol && protocols.length === 1 && protocols[0] !== protocol))
    throw new HealbertError(
      'ERR_CONFIG',
      `${analysis.dir}: holds cells of the ${protocols.join(' and ')} protocol${protocols.length > 1 ? 's' : ''}; a demo summary answers for one protocol (${protocol ?? 'either'})`,
    );
  const p: Protocol = protocol ?? protocols[0] ?? 'pretrained';
  const terms = TERMS[p];
  const lines: string[] = [];
  // Controls have no corruption either: they are the finetuned reference, not the clean model and not a corruption.
  const groups = analysis.groups.filter((g) => g.config.corruption);
  const clean = analysis.groups.find((g) => !g.config.corruption && !g.config.control);
  const control = analysis.groups.find((g) => !g.config.corruption && g.config.control);
  const metric = clean?.metric ?? groups[0]?.metric ?? 'score';
  lines.push(headline(p, clean, control, metric));
  lines.push('');
  lines.push(`1. Does corruption fully heal?  (${p} protocol: ${terms.damage}; ${terms.gap}; in points)`);
  const width = Math.max(...groups.map((g) => g.label.length), 10);
  lines.push(`   ${'corruption'.padEnd(width)}  ${'damage'.padEnd(22)}  ${'residual gap'.padEnd(22)}  healed share  seeds`);
  for (const g of groups) {
    const gap = g.residualGap;
    const healed = g.recoveryRatio.value === null ? 'n/a' : `${pct(g.recoveryRatio.value)}%`;
    // A share needs damage to heal; a gap below 0 is a finding of its own (the corruption improved the model).
    const why = g.recoveryRatio.reason && g.finding !== 'better than reference' ? `; no share: ${g.recoveryRatio.reason}` : '';
    lines.push(
      `   ${g.label.padEnd(width)}  ${withCi(g.damage).padEnd(22)}  ${withCi(gap).padEnd(22)}  ${healed.padEnd(12)}  ${g.seeds.length}  ${findingText(g.finding, p)}${why}`,
    );
  }
  lines.push('');
  lines.push(
    `2. Is bottom-layer corruption worse than top-layer corruption?  (${p} protocol; bottom minus top, paired by seed, points; ${terms.damage}; ${terms.gap})`,
  );
  const bt = analysis.bottomTop.filter((r) => r.quantity === 'residualGap' || r.quantity === 'damage');
  if (bt.length === 0) lines.push('   no bottom-k / top-k pairs in this sweep');
  for (const r of bt) {
    const d = r.difference;
    const answer = d.ci ? (d.ci.low > 0 ? 'yes, bottom worse' : d.ci.high < 0 ? 'no, top worse' : 'no clear difference') : 'n/a';
    lines.push(
      `   k=${r.k} ${r.quantity === 'damage' ? 'damage      ' : 'residual gap'}: bottom ${withCi(r.bottom)}, top ${withCi(r.top)}, difference ${pct(d.meanDifference)} [${pct(d.ci?.low)}, ${pct(d.ci?.high)}], p=${d.pPermutation?.toFixed(3) ?? 'n/a'}, n=${d.n}: ${answer}${d.warnings.length ? ` (${d.warnings.join('; ')})` : ''}`,
    );
  }
  lines.push('');
  lines.push(
    `3. How does recovery fall with the corruption level?  (${p} protocol; gaussian noise, relative sigma, all layers; ${terms.recovered}; ${terms.gap})`,
  );
  const noise = groups
    .filter((g) => g.config.corruption?.method === 'gaussian')
    .sort((a, b) => (a.config.corruption?.level ?? 0) - (b.config.corruption?.level ?? 0));
  for (const g of noise) {
    lines.push(
      `   sigma ${String(g.config.corruption?.level).padEnd(5)} recovered ${withCi(g.recovered)}, residual gap ${withCi(g.residualGap)}, healed ${g.recoveryRatio.value === null ? `n/a (${g.recoveryRatio.reason})` : `${pct(g.recoveryRatio.value)}%`}`,
    );
  }
  const representations = representationLines(analysis, p, 4);
  if (representations.length) lines.push('', ...representations);
  if (analysis.warnings.length) {
    lines.push('');
    lines.push('Warnings:');
    for (const w of analysis.warnings) lines.push(`   - ${w}`);
  }
  return `${lines.join('\n')}\n`;
}
