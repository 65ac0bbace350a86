/** `healbert scan`: the table on stdout, progress on stderr, the three files, resume, and errors that name the flag. */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { packageRoot } from '../../src/native/binding.js';
import type { ScanFile } from '../../src/scan/types.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { modelFixture } from '../helpers/fixtures.js';
import { demoGlue } from '../helpers/sweep.js';

const fixture = modelFixture('tiny-bert-sst2');
const env = { HEALBERT_CACHE_DIR: tempDir('healbert-scan-cache-') };
const scanCli = (args: string[]) => runCli(['scan', ...args], { env });

test('scan prints the table, reports progress on stderr, writes scan.json/csv/svg, and a rerun resumes', (t) => {
  const out = join(tempDir(), 'scan');
  const args = [
    fixture,
    '--task',
    'sst2',
    '--data',
    demoGlue,
    '--method',
    'reinit',
    '--each',
    'layer',
    '--seeds',
    '0,1',
    '--rows',
    '64',
    '--out',
    out,
  ];
  const r = scanCli(args);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /scan: 3 targets, 6 runs \(seeds 0, 1\); task head, accuracy on 64 rows/);
  t.regex(r.stderr, /\[6\/6\] layer 2 seed 1: \d\.\d{4}/);
  t.regex(r.stdout, /reinit \(kaiming-sqrt5\) per layer of tiny-bert-sst2; sst2 dev, 64 rows, task head/);
  t.regex(r.stdout, /target +accuracy +95% CI +drop +s\/target/);
  t.regex(r.stdout, /clean +0\.\d{4}/);
  t.regex(r.stdout, /layer 1 +0\.\d{4} +\[-?\d\.\d{4}, \d\.\d{4}\] +[+-]\d\.\d{4} +\d+\.\d\d/);
  for (const f of ['scan.json', 'scan.csv', 'scan.svg']) t.true(existsSync(join(out, f)), f);
  const file = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
  t.like(file.config, { each: 'layer', evaluation: 'head', seeds: [0, 1], corruption: { method: 'reinit' } });
  t.is(file.config.healbert, file.versions.healbert);
  t.is(file.targets.length, 3);
  t.true(file.targets.every((x) => x.runs.length === 2 && x.runs.every((run) => (run.changed ?? 0) > 0)));
  t.is(readFileSync(join(out, 'scan.csv'), 'utf8').trim().split('\r\n').length, 5);
  // Resume: nothing left, the same table.
  const again = scanCli(args);
  t.is(again.status, 0, again.stderr);
  t.regex(again.stderr, /\(6 done before, resuming\)/);
  t.notRegex(again.stderr, /\[\d\/6\]/);
  t.regex(again.stdout, /resumed: 6 runs were already done in the output folder, 0 ran now/);
  const table = (s: string) =>
    s
      .split('\n')
      .filter((l) => /^layer \d/.test(l))
      .map((l) => l.replace(/ +[\d.]+$/, ''));
  t.deepEqual(table(again.stdout), table(r.stdout));
  // Another configuration: refused, with what differs.
  const other = scanCli([...args.slice(0, -2), '--seeds', '0,1,2', '--out', out]);
  t.is(other.status, 1);
  t.regex(
    other.stderr,
    /error \[ERR_CONFIG\]: --out: .* holds a scan with another configuration[\s\S]*seeds: \[0,1\] there, \[0,1,2\] here/,
  );
});

test('scan --dtype auto runs in the dtype this machine picks and records that dtype, not auto', (t) => {
  const out = join(tempDir(), 'scan-auto');
  const args = [fixture, '--task', 'sst2', '--data', demoGlue, '--method', 'zero', '--each', 'layer', '--layers', '0'];
  const r = scanCli([...args, '--seeds', '0', '--rows', '16', '--dtype', 'auto', '--out', out]);
  t.is(r.status, 0, r.stderr);
  // What that process chose (a measurement taken here could differ under load).
  const chosen = /dtype auto on cpu: (float32|bfloat16) \(/.exec(r.stderr)?.[1];
  t.truthy(chosen, r.stderr);
  const file = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
  t.is(file.config.dtype, chosen ?? '(no choice announced)');
  const bad = scanCli([...args, '--dtype', 'float16', '--out', out]);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /--dtype must be float32, bfloat16, auto, got 'float16'/);
});

test('scan --help lists the options', (t) => {
  const r = runCli(['scan', '--help']);
  t.is(r.status, 0);
  for (const flag of [
    '--each <kind>',
    '--heads <sel>',
    '--neuron-groups <n>',
    '--seeds <list>',
    '--rows <n>',
    '--eval <how>',
    '--train-rows <n>',
    '--out <dir>',
    '--device',
  ])
    t.true(r.stdout.includes(flag), flag);
});

test('scan rejects bad input with the flag named', (t) => {
  const out = join(tempDir(), 'x');
  const noTrain = join(tempDir(), 'glue-dev-only');
  mkdirSync(join(noTrain, 'SST-2'), { recursive: true });
  copyFileSync(join(demoGlue, 'SST-2', 'dev.tsv'), join(noTrain, 'SST-2', 'dev.tsv'));
  const headless = modelFixture('tiny-bert-mlm');
  const common = ['--task', 'sst2', '--data', demoGlue, '--out', out];
  const cases: [string[], number, RegExp][] = [
    [
      [fixture, ...common, '--method', 'reinit', '--each', 'layers'],
      2,
      /--each must be one of layer, component, layer\.component, head, neuron, got 'layers'/,
    ],
    [
      [fixture, ...common, '--method', 'zero', '--each', 'head', '--heads', '0,5'],
      1,
      /--heads: head 5 does not exist \(the model has 2 heads, 0-1\)/,
    ],
    [[fixture, ...common, '--method', 'zero', '--each', 'layer', '--heads', '1'], 1, /--heads: only a head scan/],
    [
      [fixture, ...common, '--method', 'zero', '--each', 'neuron', '--neuron-groups', '49'],
      1,
      /--neuron-groups: must be an integer from 1 to 48/,
    ],
    [[fixture, ...common, '--method', 'reinit'], 2, /--each is required/],
    [[fixture, ...common, '--each', 'layer'], 2, /--method is required/],
    [[fixture, ...common, '--method', 'reinit', '--each', 'layer', '--seeds', '0,a'], 2, /--seeds must list integers/],
    [[fixture, ...common, '--method', 'reinit', '--each', 'layer', '--eval', 'logits'], 2, /--eval must be auto, head or probe/],
    [[fixture, ...common, '--method', 'revert', '--each', 'layer'], 1, /\[ERR_CONFIG\]: --method: revert restores a snapshot/],
    [[fixture, ...common, '--method', 'gaussian', '--each', 'layer'], 1, /\[ERR_CONFIG\]: --level: gaussian needs a level/],
    [
      [fixture, ...common, '--method', 'zero', '--each', 'component', '--components', 'ffn,mlp'],
      1,
      /--components \(entry 2\): unknown component "mlp"/,
    ],
    [
      [fixture, ...common, '--method', 'zero', '--each', 'layer', '--layers', '9'],
      1,
      /--layers: layer 9 does not exist \(the model has layers 0-2\)/,
    ],
    [[fixture, ...common, '--method', 'zero', '--each', 'layer', '--task', 'nope'], 1, /--task: unknown task 'nope'/],
    [[fixture, ...common, '--method', 'zero', '--each', 'layer', '--device', 'cuda:7'], 1, /\[ERR_DEVICE\]: --device: /],
    [
      [fixture, '--task', 'sst2', '--data', '/no/such/glue', '--out', out, '--method', 'zero', '--each', 'layer'],
      1,
      /--data: folder \/no\/such\/glue does not exist/,
    ],
    // A head for another task (tiny-bert has 3 outputs), and a model without a head whose probe has no train split.
    [
      [modelFixture('tiny-bert'), ...common, '--method', 'zero', '--each', 'layer'],
      1,
      /--eval: the task head in .* has 3 outputs, but sst2 has 2/,
    ],
    [[headless, ...common, '--method', 'zero', '--each', 'layer', '--eval', 'head'], 1, /--eval: .* has no task head/],
    [
      [join(packageRoot, 'models', 'mini-bert'), '--task', 'sst2', '--data', noTrain, '--out', out, '--method', 'zero', '--each', 'layer'],
      1,
      /--eval: the linear probe \(how a model without a task head is scored.*\) is trained on the 'train' split, and it cannot be read \(.*train\.tsv does not exist/,
    ],
    [
      [fixture, '--task', 'sst2', '--data', noTrain, '--out', out, '--method', 'zero', '--each', 'layer', '--eval', 'probe'],
      1,
      /--eval: the linear probe/,
    ],
  ];
  for (const [args, status, message] of cases) {
    const r = scanCli(args);
    t.is(r.status, status, `${args.join(' ')}\n${r.stderr}`);
    t.regex(r.stderr, message, args.join(' '));
  }
  t.false(existsSync(join(out, 'scan.json')), 'nothing ran');
});
