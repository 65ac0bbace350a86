/** Prints the benchmark results in a folder (bench/*.ts and the peers write JSON there) as one table. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? join(import.meta.dirname, 'results');
const rows: string[] = ['| bench | implementation | device | metric | value |', '| --- | --- | --- | --- | --- |'];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const r = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const where = `${r.deviceName ?? r.device}`;
  if (r.bench === 'train-step') {
    rows.push(
      `| train step (${r.family ?? 'bert'}, b${r.shape.batch}, s${r.shape.seq}, ${r.dtype}) | ${r.implementation} | ${where} | ms/step | ${r.trainStepMs.toFixed(2)} |`,
    );
    rows.push(
      `| eval (${r.family ?? 'bert'}, b${r.shape.evalBatch}, s${r.shape.seq}, ${r.dtype}) | ${r.implementation} | ${where} | ms/batch | ${r.evalBatchMs.toFixed(2)} |`,
    );
  } else if (r.bench === 'sweep-cell') {
    rows.push(
      `| sweep cell (bert-base, SST-2 ${r.train} rows, 1 epoch) | ${r.implementation} | ${where} | cells/hour | ${r.cellsPerHour.toFixed(1)} (${r.secondsPerCell.toFixed(1)} s/cell) |`,
    );
  } else if (r.bench === 'fleet') {
    for (const run of r.runs)
      rows.push(
        `| fleet of ${run.fleet} (${run.cells} cells, SST-2 ${r.train} rows, ${r.epochs} epoch) | healbert | ${where} | cells/hour | ${run.cellsPerHour.toFixed(1)} (${(run.speedup ?? 0).toFixed(2)}x solo${r.sameScores ? '' : ', scores differ'}) |`,
      );
  } else if (r.bench === 'corrupt') {
    for (const row of r.rows)
      rows.push(
        `| corrupt ${row.layers === 'all' ? '12 layers' : `layer ${row.layers}`}: ${row.method} | ${r.implementation} | ${where} | ms (GB/s) | ${row.medianMs.toFixed(3)} (${row.effectiveGBps.toFixed(0)}) |`,
      );
  }
}
console.log(rows.join('\n'));
