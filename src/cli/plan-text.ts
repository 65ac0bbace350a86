/** `sweep --plan` as text: the cells by group, the fleets, the calibration and the estimated times. */
import type { SweepPlan } from '../sweep/plan.js';

export const duration = (s: number) =>
  s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(s < 10 ? 1 : 0)} s`;

/** A Slurm --time (D-HH:MM:SS) with half again as much as the estimate, rounded up to 5 minutes. */
export function slurmTime(seconds: number): string {
  const minutes = Math.max(5, Math.ceil((1.5 * seconds) / 60 / 5) * 5);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  return `${d > 0 ? `${d}-` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
}

export function planText(plan: SweepPlan): string {
  const c = plan.counts;
  const lines = [
    `sweep ${plan.name} in ${plan.dir}: ${c.total} cells, ${c.finished} finished, ${c.recompute} to recompute (inputs changed), ${c.run} to run`,
    '',
  ];
  const width = Math.max(10, ...plan.groups.map((g) => `${g.model}/${g.task} ${g.corruption}`.length));
  for (const g of plan.groups) {
    const seeds = g.cells
      .map((x) => `${x.seed}${x.state === 'finished' ? ' done' : x.state === 'recompute' ? ' recompute' : ''}`)
      .join(', ');
    lines.push(`  ${`${g.model}/${g.task} ${g.corruption}`.padEnd(width)}  seeds ${seeds}`);
  }
  lines.push('', `fleets to run on ${plan.device}: ${plan.fleets.length}`);
  for (const f of plan.fleets)
    lines.push(`  ${f.cells.length} cell${f.cells.length === 1 ? ' ' : 's'}  ~${duration(f.seconds).padEnd(9)} ${f.label}`);
  lines.push('', "calibration (timed here, at the spec's shapes):");
  for (const k of plan.calibrations)
    lines.push(
      `  ${k.model}/${k.task} on ${k.device}, fleet of ${k.members}: load ${duration(k.loadSeconds)}, ${k.stepsTimed} training steps ` +
        `${(k.trainSecondsPerToken * 1e6).toFixed(2)} us/token (epoch of ${k.trainExamples} examples ~${duration(k.trainSecondsPerToken * k.trainTokensPerEpoch)}), ` +
        `evaluation ${(k.evalSecondsPerToken * 1e6).toFixed(2)} us/token (${k.evalExamples} examples ~${duration(k.evalSecondsPerToken * k.evalTokens)}); took ${duration(k.seconds)}`,
    );
  const e = plan.estimate;
  lines.push(
    '',
    `estimated wall time: ${duration(e.totalSeconds)} on one worker${e.workers > 1 ? `, about ${duration(e.wallSeconds)} on ${e.workers}` : ''}`,
  );
  if (e.shards) {
    const longest = Math.max(0, ...e.shards.map((s) => s.seconds));
    lines.push(`per array task (${e.shards.length} shards): longest ~${duration(longest)}; suggested --time ${slurmTime(longest)}`);
    for (const s of e.shards) lines.push(`  task ${s.index}: ${s.cells} cells ~${duration(s.seconds)}`);
  }
  return `${lines.join('\n')}\n`;
}
