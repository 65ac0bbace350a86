/**
 * The demo's answer to the paper's three questions, from the analysis of its sweep: does corruption fully
 * heal, is bottom-layer corruption worse than top-layer corruption, how does recovery fall with the level.
 * Every number comes with its 95% bootstrap interval over seeds and the number of seeds.
 */
import type { Analysis } from '../analysis/analyze.js';
import type { Summary } from '../analysis/stats.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}`);
const withCi = (s: Summary) => (s.mean === null ? 'n/a' : `${pct(s.mean)} [${pct(s.ci?.low)}, ${pct(s.ci?.high)}]`);

export function demoSummary(analysis: Analysis): string {
  const lines: string[] = [];
  const groups = analysis.groups.filter((g) => g.config.corruption);
  const clean = analysis.groups.find((g) => !g.config.corruption);
  const metric = clean?.metric ?? 'score';
  lines.push(
    `SST-2 dev ${metric} (%), mean [95% CI] over seeds; clean model fine-tuned: ${clean ? withCi(clean.cleanScore) : 'n/a'} (n=${clean?.cleanScore.n ?? 0})`,
  );
  lines.push('');
  lines.push(
    '1. Does corruption fully heal?  (pretrained protocol: residual gap = clean fine-tuned minus corrupted fine-tuned, in points)',
  );
  const width = Math.max(...groups.map((g) => g.label.length), 10);
  lines.push(`   ${'corruption'.padEnd(width)}  ${'damage'.padEnd(22)}  ${'residual gap'.padEnd(22)}  healed share  seeds`);
  for (const g of groups) {
    const gap = g.residualGap;
    const healed = g.recoveryRatio.value === null ? 'n/a' : `${pct(g.recoveryRatio.value)}%`;
    const verdict =
      gap.ci && gap.ci.low > 0 ? 'not fully healed' : gap.ci && gap.ci.high < 0 ? 'better than clean' : 'gap not distinguishable from 0';
    lines.push(
      `   ${g.label.padEnd(width)}  ${withCi(g.damage).padEnd(22)}  ${withCi(gap).padEnd(22)}  ${healed.padEnd(12)}  ${g.seeds.length}  ${verdict}`,
    );
  }
  lines.push('');
  lines.push(
    '2. Is bottom-layer corruption worse than top-layer corruption?  (pretrained protocol; bottom minus top, paired by seed, points)',
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
  lines.push('3. How does recovery fall with the corruption level?  (pretrained protocol; gaussian noise, relative sigma, all layers)');
  const noise = groups
    .filter((g) => g.config.corruption?.method === 'gaussian')
    .sort((a, b) => (a.config.corruption?.level ?? 0) - (b.config.corruption?.level ?? 0));
  for (const g of noise) {
    lines.push(
      `   sigma ${String(g.config.corruption?.level).padEnd(5)} recovered ${withCi(g.recovered)}, residual gap ${withCi(g.residualGap)}, healed ${g.recoveryRatio.value === null ? 'n/a' : `${pct(g.recoveryRatio.value)}%`}`,
    );
  }
  if (analysis.warnings.length) {
    lines.push('');
    lines.push('Warnings:');
    for (const w of analysis.warnings) lines.push(`   - ${w}`);
  }
  return `${lines.join('\n')}\n`;
}
