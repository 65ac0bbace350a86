/**
 * `healbert demo --protocol finetuned`: the same corruptions, seeds and recipe as the paper's protocol, on the
 * task model, healed and compared with its control; its own folder; a summary whose headings say which
 * protocol they show and whose residual gaps are taken against the control.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Analysis } from '../../src/analysis/analyze.js';
import type { GroupSummary } from '../../src/analysis/groups.js';
import { checkDemoFolder } from '../../src/demo/folder.js';
import { bundledData, bundledModel, demoOutDefault, demoSpec } from '../../src/demo/spec.js';
import { demoSummary } from '../../src/demo/summary.js';
import { expandSweep } from '../../src/sweep/expand.js';
import { resolveSweepSpec } from '../../src/sweep/spec.js';
import type { CellResult } from '../../src/sweep/types.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { modelFixture } from '../helpers/fixtures.js';

const cpu = { model: bundledModel, data: bundledData, device: 'cpu', layers: 4 } as const;
const cellsOf = (spec: ReturnType<typeof demoSpec>) => expandSweep({ ...resolveSweepSpec(spec, '/'), dtype: 'float32' }).cells;

test("the finetuned demo: the pretrained demo's corruptions, seeds and recipe, plus one control per seed and healEpochs", (t) => {
  const pretrained = demoSpec(cpu);
  const finetuned = demoSpec({ ...cpu, protocol: 'finetuned' });
  t.is(finetuned.name, 'healing-demo-finetuned');
  t.not(finetuned.name, pretrained.name);
  t.is(demoOutDefault('finetuned'), 'healbert-demo-finetuned');
  t.not(demoOutDefault('finetuned'), demoOutDefault('pretrained'));
  t.deepEqual(finetuned.corruptions, pretrained.corruptions);
  t.deepEqual(finetuned.seeds, pretrained.seeds);
  t.deepEqual(finetuned.recipe, pretrained.recipe);
  t.deepEqual(finetuned.tasks, pretrained.tasks);
  t.deepEqual(finetuned.recovery, { healEpochs: 1 });
  t.deepEqual(demoSpec({ ...cpu, protocol: 'finetuned', healEpochs: 3 }).recovery, { healEpochs: 3 });
  const cells = cellsOf(finetuned);
  // 6 task models, 6 controls and 7 corruptions x 6 seeds, where the pretrained demo has 48 cells.
  t.is(cells.length, 54);
  t.is(cells.filter((c) => c.config.control).length, 6);
  t.true(cells.every((c) => c.config.protocol === 'finetuned'));
  t.is(cellsOf(pretrained).length, 48);
  t.is(
    (() => {
      try {
        demoSpec({ ...cpu, healEpochs: 2 });
        return 'accepted';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    })(),
    'ERR_ARGUMENT',
  );
});

test('--heal-epochs without --protocol finetuned, and an unknown protocol, are usage errors; --help shows both', (t) => {
  const heal = runCli(['demo', '--heal-epochs', '2', '--out', join(tempDir(), 'x')]);
  t.is(heal.status, 2, heal.stderr);
  t.regex(heal.stderr, /--heal-epochs needs --protocol finetuned/);
  const bogus = runCli(['demo', '--protocol', 'pretrain', '--out', join(tempDir(), 'x')]);
  t.is(bogus.status, 2, bogus.stderr);
  t.regex(bogus.stderr, /--protocol must be 'pretrained' or 'finetuned'/);
  const help = runCli(['demo', '--help']);
  t.is(help.status, 0);
  t.regex(help.stdout, /--protocol <name>/);
  t.regex(help.stdout, /--heal-epochs <n>/);
  t.regex(help.stdout, /control/);
});

test('a folder of the other protocol is refused before anything is written; its own protocol and an empty folder pass', async (t) => {
  const dir = join(tempDir(), 'pretrained-demo');
  await t.notThrowsAsync(checkDemoFolder(dir, 'finetuned'), 'a folder that does not exist yet');
  mkdirSync(join(dir, 'cells', 'abc'), { recursive: true });
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ name: 'healing-demo', protocol: 'pretrained' }));
  await t.notThrowsAsync(checkDemoFolder(dir, 'pretrained'));
  const error = await t.throwsAsync(checkDemoFolder(dir, 'finetuned'));
  t.is((error as { code?: string }).code, 'ERR_CONFIG');
  t.true(error?.message.startsWith(dir));
  // A cell of the other protocol is refused even when spec.json (rewritten by every run) says otherwise.
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ name: 'healing-demo-finetuned', protocol: 'finetuned' }));
  writeFileSync(join(dir, 'cells', 'abc', 'config.json'), JSON.stringify({ id: 'abc', config: { protocol: 'pretrained' } }));
  const mixed = await t.throwsAsync(checkDemoFolder(dir, 'finetuned'));
  t.regex(mixed?.message ?? '', /cells\/abc\/config\.json/);
});

test('healbert demo --protocol finetuned: headings name the protocol, controls are no corruption, gaps are against the control', async (t) => {
  // The committed tiny classifier (3 layers), not a random model: on 128 rows that one stays at the majority
  // class, every score equal, and a gap against the task model would read the same as one against the control.
  const model = modelFixture('tiny-bert-sst2');
  const out = join(tempDir(), 'demo-finetuned');
  const common = ['--model', model, '--out', out, '--seeds', '1', '--train-examples', '128', '--epochs', '1', '--workers', '1'];
  const r = runCli(['demo', '--protocol', 'finetuned', ...common]);
  t.is(r.status, 0, r.stderr);
  t.log(r.stdout);
  // 1 task model, its control and 7 corruptions (3 layers: k = 1, 2 as on the bundled model).
  t.regex(r.stdout, /Cells: 9 done, 0 diverged, 0 failed/);
  t.regex(
    r.stdout,
    /finetuned protocol; task model \(clean model fine-tuned\): .*; control \(task model healed 1 more epoch, uncorrupted\): /,
  );
  t.regex(
    r.stdout,
    /1\. Does corruption fully heal\? {2}\(finetuned protocol: damage = task model before minus after corruption; residual gap = control healed minus corrupted healed; in points\)/,
  );
  t.regex(
    r.stdout,
    /2\. Is bottom-layer corruption worse than top-layer corruption\? {2}\(finetuned protocol; .*residual gap = control healed minus corrupted healed\)/,
  );
  t.regex(
    r.stdout,
    /3\. How does recovery fall with the corruption level\? {2}\(finetuned protocol; .*residual gap = control healed minus corrupted healed\)/,
  );
  t.notRegex(r.stdout, /pretrained protocol|probe/);

  const results = readdirSync(join(out, 'cells')).map(
    (id) => JSON.parse(readFileSync(join(out, 'cells', id, 'result.json'), 'utf8')) as CellResult,
  );
  const control = results.find((c) => c.config.control) as CellResult;
  const controlFinal = control.scores.final?.accuracy as number;
  const taskModel = control.scores.beforeCorruption?.accuracy as number;
  // The premise that lets this test tell the two gaps apart: healing alone moved the task model's score.
  t.true(Math.abs(controlFinal - taskModel) >= 0.002, `control ${controlFinal}, task model ${taskModel}`);
  const table = r.stdout.slice(r.stdout.indexOf('1. Does'), r.stdout.indexOf('2. Is'));
  const rows = table.split('\n').slice(2).filter(Boolean);
  t.is(rows.length, 7, 'one row per corruption');
  t.false(
    rows.some((row) => /^\s+(control|clean)\s/.test(row)),
    'no control or clean row among the corruptions',
  );
  const headline = r.stdout.split('\n')[1] ?? '';
  t.true(headline.includes(`task model (clean model fine-tuned): ${(100 * taskModel).toFixed(1)} `), headline);
  t.true(headline.includes(`control (task model healed 1 more epoch, uncorrupted): ${(100 * controlFinal).toFixed(1)} `), headline);

  const analysis = JSON.parse(readFileSync(join(out, 'report', 'analysis.json'), 'utf8')) as { groups: GroupSummary[] };
  const corrupted = analysis.groups.filter((g) => g.config.corruption);
  t.is(corrupted.length, 7);
  for (const g of corrupted) {
    const cell = results.find((c) => c.config.corruption?.label === g.label) as CellResult;
    const gap = controlFinal - (cell.scores.final?.accuracy as number);
    // The analysis takes the gap against the control (not the task model before healing), and so does the table.
    t.true(Math.abs((g.residualGap.mean as number) - gap) < 1e-12, g.label);
    t.is(g.controlScore.mean, controlFinal);
    const row = rows.find((line) => line.trimStart().startsWith(`${g.label} `)) as string;
    t.truthy(row, g.label);
    const damage = taskModel - (cell.scores.afterCorruption?.accuracy as number);
    const cells = row.trim().split(/\s{2,}/);
    t.is(cells[1], `${(100 * damage).toFixed(1)} [n/a, n/a]`, `${g.label} damage: ${row}`);
    t.is(cells[2], `${(100 * gap).toFixed(1)} [n/a, n/a]`, `${g.label} residual gap: ${row}`);
    t.not(cells[2], `${(100 * (g.gapToTaskModelBeforeHealing.mean as number)).toFixed(1)} [n/a, n/a]`, 'not the gap to the task model');
  }

  // The pretrained demo pointed at this folder: refused with the folder first, nothing written.
  const before = readdirSync(join(out, 'cells')).sort();
  const mixed = runCli(['demo', ...common]);
  t.is(mixed.status, 1, mixed.stderr);
  t.regex(mixed.stderr, /error \[ERR_CONFIG\]: .*demo-finetuned: holds results of the finetuned protocol/);
  t.deepEqual(readdirSync(join(out, 'cells')).sort(), before);
});

test('demoSummary refuses an analysis of both protocols, or of the other protocol than the one asked for', (t) => {
  const group = (protocol: string) => ({ protocol, label: 'clean', config: { corruption: null, recovery: { healEpochs: 1 } } });
  const analysis = (...protocols: string[]) =>
    ({ dir: '/results', groups: protocols.map(group), bottomTop: [], warnings: [] }) as unknown as Analysis;
  t.is(t.throws(() => demoSummary(analysis('pretrained', 'finetuned')))?.message.startsWith('/results: '), true);
  t.is((t.throws(() => demoSummary(analysis('pretrained'), 'finetuned')) as { code?: string }).code, 'ERR_CONFIG');
});
