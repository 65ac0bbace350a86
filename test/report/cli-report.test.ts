import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { main } from '../../src/cli/main.js';
import { writeSyntheticSweep } from '../analysis/helpers/synthetic-sweep.js';
import { runCli as spawnCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'healbert-cli-report-'));
const sweep = join(dir, 'sweep');
writeSyntheticSweep(sweep, { index: 40 });
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI in this process (fast); the first test runs it as a real process. */
async function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const status = await main(args, io, new AbortController().signal);
  return { status, stdout, stderr };
}

test('healbert report writes the report folder and prints what it left out (as a process)', (t) => {
  const r = spawnCli(['report', sweep, '--resamples', '200']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /100 cells \(96 done, 1 diverged, 1 failed, 1 running, 1 not started\)/);
  t.regex(r.stdout, /warning: the sweep is not finished/);
  t.regex(r.stdout, /open .*report\/report\.html/);
  t.regex(readFileSync(join(sweep, 'report', 'report.html'), 'utf8'), /<figure /);
});

test('--out - prints JSON, Markdown or one CSV table', async (t) => {
  const json = await runCli(['report', sweep, '--format', 'json', '--out', '-', '--resamples', '200']);
  t.is(json.status, 0, json.stderr);
  t.is((JSON.parse(json.stdout) as { counts: { done: number } }).counts.done, 96);
  const md = await runCli(['report', sweep, '--format', 'md', '--out', '-', '--resamples', '200']);
  t.regex(md.stdout, /^# healbert report/);
  t.notRegex(md.stdout, /!\[/, 'no image links on standard output');
  const csv = await runCli(['report', sweep, '--format', 'csv', '--out', '-', '--table', 'bottom-top', '--resamples', '200']);
  t.is(csv.status, 0, csv.stderr);
  t.regex(csv.stdout, /^context,dose,k,quantity,bottom,/);
});

test('bad options are usage errors (exit 2); unreadable results are ERR_DATA (exit 1)', async (t) => {
  const badFormat = await runCli(['report', sweep, '--format', 'pdf']);
  t.is(badFormat.status, 2);
  t.regex(badFormat.stderr, /--format must be one of html, md, json, csv, got 'pdf'/);
  const badLevel = await runCli(['report', sweep, '--level', '2']);
  t.is(badLevel.status, 2);
  t.regex(badLevel.stderr, /--level must be a number in \[0.5, 0.999\]/);
  t.is((await runCli(['report'])).status, 2);
  t.is((await runCli(['report', sweep, '--format', 'csv', '--out', '-'])).status, 2);
  t.is((await runCli(['report', sweep, '--format', 'html', '--out', '-'])).status, 2);
  t.is((await runCli(['report', sweep, '--format', 'csv', '--out', '-', '--table', 'nope', '--resamples', '100'])).status, 2);
  const missing = await runCli(['report', join(dir, 'nope')]);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /error \[ERR_DATA\]: .*nope: not a sweep folder/);
  const broken = join(dir, 'broken');
  writeSyntheticSweep(broken);
  writeFileSync(join(broken, 'index.jsonl'), 'not json\n');
  const r = await runCli(['report', broken]);
  t.is(r.status, 1);
  t.regex(r.stderr, /error \[ERR_DATA\]: .*index\.jsonl:1: not valid JSON/);
});

/** `report --plan-shapley` without a sweep folder: seed 1 of model m on task t. */
const plan = (corruption: string, layers: number, extra: string[] = []) =>
  runCli(['report', '--plan-shapley', corruption, '--num-layers', String(layers), '--seeds', '1', '--model', 'm', '--task', 't', ...extra]);

test('--plan-shapley prints a sweep spec with exactly the cells a Shapley estimate needs', async (t) => {
  const corruption = join(dir, 'reinit.json');
  writeFileSync(corruption, JSON.stringify({ method: 'reinit', targets: {} }));
  const fromSweep = await runCli(['report', sweep, '--plan-shapley', corruption, '--seeds', '1,2']);
  t.is(fromSweep.status, 0, fromSweep.stderr);
  const spec = JSON.parse(fromSweep.stdout) as { cells: { seed: number; corruption: unknown }[]; models: unknown[] };
  t.is(spec.cells.length, 2 * 8);
  t.is(spec.models.length, 1);
  const bare = await plan(corruption, 12, ['--permutations', '4']);
  t.is(bare.status, 0, bare.stderr);
  const cells = (JSON.parse(bare.stdout) as { cells: unknown[] }).cells;
  t.true(cells.length > 12 && cells.length <= 1 + 4 * 12);
  const out = join(dir, 'plan.json');
  t.is((await plan(corruption, 2, ['--out', out])).status, 0);
  t.is((JSON.parse(readFileSync(out, 'utf8')) as { cells: unknown[] }).cells.length, 4);
  const tooBig = await plan(corruption, 16);
  t.is(tooBig.status, 1);
  t.regex(tooBig.stderr, /ERR_ARGUMENT.*sample permutations/);
  t.is((await runCli(['report', '--plan-shapley', corruption])).status, 2);
  t.is(
    (await runCli(['report', '--plan-shapley', corruption, '--seeds', '1,x', '--num-layers', '2', '--model', 'm', '--task', 't'])).status,
    2,
  );
  const none = await plan(join(dir, 'none.json'), 2);
  t.regex(none.stderr, /ERR_ARGUMENT.*none\.json: cannot read/);
});
