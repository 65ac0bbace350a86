import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadSplit } from '../../src/data/load-split.js';
import { GLUE_TASKS, getTask, resolveSplit } from '../../src/data/tasks.js';
import { glueFixtures, sharedData, tempTree } from './helpers.js';

test('every GLUE task reads every split of the fixtures, in its exact column layout', async (t) => {
  const expected: Record<string, Record<string, number>> = {
    cola: { train: 13, dev: 12, test: 12 },
    sst2: { train: 12, dev: 12, test: 12 },
    mrpc: { train: 12, dev: 12, test: 12 },
    stsb: { train: 12, dev: 12, test: 12 },
    qqp: { train: 15, dev: 10, test: 5 },
    mnli: { train: 15, dev_matched: 10, dev_mismatched: 10, test_matched: 5, test_mismatched: 5 },
    qnli: { train: 12, dev: 12, test: 12 },
    rte: { train: 12, dev: 12, test: 12 },
    wnli: { train: 12, dev: 12, test: 12 },
    ax: { test: 12 },
  };
  for (const [name, splits] of Object.entries(expected)) {
    const task = getTask(name);
    for (const [split, count] of Object.entries(splits)) {
      const loaded = await loadSplit(task, glueFixtures, split);
      t.is(loaded.examples.length, count, `${name} ${split}`);
      t.deepEqual(loaded.skipped, [], `${name} ${split}`);
      const labelled = task.splits[split]?.label !== undefined;
      t.is(
        loaded.examples.every((e) => e.label !== undefined),
        labelled,
        `${name} ${split} labels`,
      );
      t.is(
        loaded.examples.every((e) => (e.textPair !== undefined) === (task.splits[split]?.textPair !== undefined)),
        true,
        `${name} ${split} pairs`,
      );
      if (labelled && !task.isRegression)
        t.true(loaded.examples.every((e) => Number.isInteger(e.label) && (e.label as number) < task.labelNames.length));
    }
  }
});

test('fields come from the right columns (MRPC with its byte order mark, CoLA without a header, MNLI gold labels)', async (t) => {
  const mrpc = await loadSplit('mrpc', glueFixtures, 'train');
  t.deepEqual(mrpc.examples[0], {
    text: 'Amrozi accused his brother, whom he called "the witness", of deliberately distorting his evidence.',
    textPair: 'Referring to him as only "the witness", Amrozi accused his brother of deliberately distorting his evidence.',
    label: 1,
  });
  const cola = await loadSplit('cola', glueFixtures, 'train');
  t.deepEqual(cola.examples[0], { text: "Our friends won't buy this analysis, let alone the next one we propose.", label: 1 });
  const mnli = await loadSplit('mnli', glueFixtures, 'dev');
  t.is(mnli.split, 'dev_matched');
  t.deepEqual(mnli.examples[0], {
    text: 'The new rights are nice enough',
    textPair: 'Everyone really likes the newest benefits ',
    label: 1,
  });
  t.is((await loadSplit('mnli-mm', glueFixtures, 'dev')).split, 'dev_mismatched');
  const stsb = await loadSplit('stsb', glueFixtures, 'train');
  t.is(stsb.examples[0]?.label, 5);
  t.true(stsb.isRegression);
  const qqp = await loadSplit('qqp', glueFixtures, 'dev');
  t.deepEqual(qqp.examples[0], { text: 'Why are African-Americans so beautiful?', textPair: 'Why are hispanics so beautiful?', label: 0 });
});

test('the last line without a newline is read (CoLA dev, the diagnostic set)', async (t) => {
  t.false(readFileSync(join(glueFixtures, 'CoLA', 'dev.tsv'), 'utf8').endsWith('\n'));
  const cola = await loadSplit('cola', glueFixtures, 'dev');
  t.is(cola.examples.at(-1)?.text, 'John talked to Bill about himself.');
});

const header = 'index\tsentence1\tsentence2\tlabel\n';

test('a malformed row is an ERR_DATA error naming the file and line', async (t) => {
  const root = tempTree({ 'RTE/train.tsv': `${header}0\ta\tb\tentailment\n1\tonly two fields\n2\tc\td\tnot_entailment\n` });
  const error = await t.throwsAsync(loadSplit('rte', root, 'train'), { code: 'ERR_DATA' });
  t.regex(error?.message ?? '', /RTE\/train\.tsv:3: expected 4 tab-separated fields, found 2/);
  const badLabel = tempTree({ 'RTE/dev.tsv': `${header}0\ta\tb\tmaybe\n` });
  const labelError = await t.throwsAsync(loadSplit('rte', badLabel, 'dev'), { code: 'ERR_DATA' });
  t.regex(labelError?.message ?? '', /dev\.tsv:2: unknown label 'maybe'/);
  const badScore = tempTree({
    'STS-B/dev.tsv':
      'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\to\ts\ts\ta\tb\tfive\n',
  });
  await t.throwsAsync(loadSplit('stsb', badScore, 'dev'), { code: 'ERR_DATA', message: /dev\.tsv:2: score 'five' is not a number/ });
});

test("with onMalformed 'skip', bad rows are counted and reported with file and line; blank lines always are", async (t) => {
  const root = tempTree({ 'RTE/train.tsv': `${header}0\ta\tb\tentailment\n1\tonly two\n\n2\tc\td\t-\n3\te\tf\tnot_entailment` });
  const loaded = await loadSplit('rte', root, 'train', { onMalformed: 'skip' });
  t.is(loaded.examples.length, 2);
  t.deepEqual(
    loaded.skipped.map((s) => [s.line, s.reason.split(' ')[0]]),
    [
      [3, 'expected'],
      [4, 'blank'],
      [5, 'unknown'],
    ],
  );
  t.true(loaded.skipped.every((s) => s.file.endsWith(join('RTE', 'train.tsv'))));
});

test('quote characters are text, as in the official loaders (no CSV quoting in GLUE TSVs)', async (t) => {
  const root = tempTree({ 'RTE/dev.tsv': `${header}0\t"quoted\tand "half\tentailment\r\n1\t"a\t"b\tnot_entailment\r\n` });
  const loaded = await loadSplit('rte', root, 'dev');
  t.deepEqual(loaded.examples[0], { text: '"quoted', textPair: 'and "half', label: 0 });
  t.is(loaded.examples.length, 2, 'CRLF line ends');
});

test('task and split lookup: aliases, and errors that list the choices', async (t) => {
  t.is(getTask('SST-2').name, 'sst2');
  t.is(getTask('STS-B').name, 'stsb');
  t.is(resolveSplit(getTask('mnli'), 'validation_mismatched'), 'dev_mismatched');
  t.throws(() => getTask('nope'), { code: 'ERR_ARGUMENT', message: /known tasks: cola, sst2/ });
  t.throws(() => resolveSplit(getTask('rte'), 'dev_matched'), { code: 'ERR_ARGUMENT', message: /its splits: train, dev, test/ });
  await t.throwsAsync(loadSplit('qqp', tempTree({}), 'train'), { code: 'ERR_IO' });
});

// The official row counts (GLUE paper / download_glue_data.py; QQP, MNLI and QNLI train are not in shared/data).
const OFFICIAL: [string, string, number][] = [
  ['cola', 'train', 8551],
  ['cola', 'dev', 1043],
  ['cola', 'test', 1063],
  ['sst2', 'train', 67349],
  ['sst2', 'dev', 872],
  ['sst2', 'test', 1821],
  ['mrpc', 'train', 3668],
  ['mrpc', 'dev', 408],
  ['mrpc', 'test', 1725],
  ['stsb', 'train', 5749],
  ['stsb', 'dev', 1500],
  ['stsb', 'test', 1379],
  ['qnli', 'dev', 5463],
  ['qnli', 'test', 5463],
  ['rte', 'train', 2490],
  ['rte', 'dev', 277],
  ['rte', 'test', 3000],
  ['wnli', 'train', 635],
  ['wnli', 'dev', 71],
  ['wnli', 'test', 146],
  ['ax', 'test', 1104],
  ['qqp', 'train', 363846],
  ['qqp', 'dev', 40430],
  ['qqp', 'test', 390965],
  ['mnli', 'train', 392702],
  ['mnli', 'dev_matched', 9815],
  ['mnli', 'dev_mismatched', 9832],
  ['mnli', 'test_matched', 9796],
  ['mnli', 'test_mismatched', 9847],
  ['qnli', 'train', 104743],
];

const glueRoot = join(sharedData, 'glue');
if (!existsSync(glueRoot)) {
  test.skip('official GLUE row counts (shared/data/glue is not here)', () => {});
} else {
  test('every GLUE split in shared/data has its official row count, nothing skipped', async (t) => {
    let checked = 0;
    for (const [name, split, rows] of OFFICIAL) {
      const task = getTask(name);
      const file = join(glueRoot, task.dir, task.splits[split]?.file ?? '');
      if (!existsSync(file)) {
        t.log(`${name} ${split}: not in shared/data (skipped)`);
        continue;
      }
      const loaded = await loadSplit(task, glueRoot, split);
      t.is(loaded.examples.length, rows, `${name} ${split}`);
      t.deepEqual(loaded.skipped, [], `${name} ${split}`);
      checked++;
    }
    t.true(checked >= 21, `checked ${checked} splits`);
  });
}

test('the task table is complete: every GLUE task with labels, metrics and splits', (t) => {
  t.deepEqual(
    GLUE_TASKS.map((task) => task.name),
    ['cola', 'sst2', 'mrpc', 'stsb', 'qqp', 'mnli', 'mnli-mm', 'qnli', 'rte', 'wnli', 'ax'],
  );
  for (const task of GLUE_TASKS) {
    t.true(task.metrics.length > 0);
    t.is(task.isRegression, task.labelNames.length === 0, task.name);
  }
});
