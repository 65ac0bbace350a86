/** --dtype auto on the commands that run a model: the concrete dtype this machine picks is what they record. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { demoGlue, makeTinyModel } from '../helpers/sweep.js';

const env = { HEALBERT_CACHE_DIR: tempDir('healbert-dtype-cache-') };
/**
 * The dtype a command said `auto` chose. Compared with what it recorded, not with a measurement taken
 * here: under load two processes can measure different speed-ups (see bestSpeed).
 */
function announced(stderr: string, prefix: string): string {
  const m = new RegExp(`${prefix}: (float32|bfloat16) \\(`).exec(stderr);
  if (!m) throw new Error(`no "${prefix}: <dtype> (" line in:\n${stderr}`);
  return m[1] as string;
}

test('healbert run --dtype auto records the resolved dtype in the cell config and prints why', async (t) => {
  const out = join(tempDir(), 'run');
  const args = ['run', '--model', await makeTinyModel(), '--task', 'sst2', '--data', demoGlue, '--method', 'none', '--out', out];
  const r = runCli([...args, '--train-examples', '32', '--epochs', '1', '--batch-size', '16', '--max-length', '32', '--dtype', 'auto'], {
    env,
  });
  t.is(r.status, 0, r.stderr);
  const dtype = announced(r.stderr, 'dtype auto');
  const cells = readdirSync(join(out, 'cells'));
  t.is(cells.length, 1);
  const result = JSON.parse(readFileSync(join(out, 'cells', cells[0] as string, 'result.json'), 'utf8'));
  t.is(result.status, 'done');
  t.is(result.config.dtype, dtype);
});

test('healbert pretrain resolves its default dtype (auto) and records the concrete one in summary.json', (t) => {
  const out = tempDir();
  const r = runCli(
    [
      'pretrain',
      '--corpus',
      join(fixturesDir, 'corpus'),
      '--tokenizer',
      join(fixturesDir, 'tokenizer', 'models', 'bert-base-uncased'),
      '--out',
      out,
      '--layers',
      '1',
      '--hidden',
      '32',
      '--heads',
      '2',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--max-length',
      '32',
      '--hold-out',
      '0.34',
      '--eval-every',
      '2',
    ],
    { env },
  );
  t.is(r.status, 0, r.stderr);
  const dtype = announced(r.stderr, 'dtype auto on cpu');
  t.is(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).options.dtype, dtype);
});

test('a --dtype that is not float32, bfloat16 or auto is a usage error on every command that takes it', (t) => {
  // Each with the flags it checks before --dtype.
  const commands: string[][] = [
    ['predict', 'x', '--input', 'in.jsonl', '--output', 'out.jsonl'],
    ['scan', 'x', '--each', 'layer', '--method', 'zero'],
    ['pretrain', '--steps', '1'],
    ['demo'],
    ['run', '--model', 'x', '--task', 'sst2', '--data', 'y', '--out', 'z'],
  ];
  for (const [command, ...args] of commands) {
    const r = runCli([command as string, ...args, '--dtype', 'float16'], { env });
    t.is(r.status, 2, `${command}: ${r.stderr}`);
    t.regex(r.stderr, /--dtype must be float32, bfloat16, auto, got 'float16'/, command);
  }
});
