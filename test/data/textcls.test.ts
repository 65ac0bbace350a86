import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadSplit } from '../../src/data/load-split.js';
import { getTask } from '../../src/data/tasks.js';
import { deriveLabelMap, loadTextFile } from '../../src/data/text-files.js';
import { sharedData, tempTree, textclsFixtures } from './helpers.js';

test('presets read their fixture files: emotion, AG News, IMDB (tarball), Twitter Financial News (Parquet)', async (t) => {
  const emotion = await loadSplit('emotion', textclsFixtures, 'train');
  t.is(emotion.examples.length, 30);
  t.deepEqual(emotion.examples[0], { text: 'i didnt feel humiliated', label: 0 });
  t.is((await loadSplit('emotion', textclsFixtures, 'dev')).split, 'validation');
  const ag = await loadSplit('ag_news', textclsFixtures, 'test');
  t.is(ag.examples.length, 20);
  t.deepEqual(ag.examples[0], {
    text: "Fears for T N pension after talks Unions representing workers at Turner   Newall say they are 'disappointed' after talks with stricken parent firm Federal Mogul.",
    label: 2,
  });
  const imdb = await loadSplit('imdb', textclsFixtures, 'train');
  t.deepEqual(
    imdb.examples.map((e) => e.label),
    [0, 0, 0, 1, 1, 1],
  );
  t.is((await loadSplit('imdb', textclsFixtures, 'test')).examples.length, 3);
  const twitter = await loadSplit('twitter_financial_news_topic', textclsFixtures, 'validation');
  t.is(twitter.examples.length, 40);
  t.is(twitter.examples[0]?.label, 0);
  t.true(twitter.examples[0]?.text.startsWith('Analyst call of the day'));
  t.is(getTask('twitter_financial_news_topic').labelNames.length, 20);
  t.deepEqual(getTask('emotion').metrics, ['macro_f1', 'weighted_f1', 'accuracy']);
});

test('generic loader: CSV with quotes, doubled quotes and newlines inside fields; a derived label map', async (t) => {
  const root = tempTree({ 'a.csv': 'text,label\n"Hello, ""world""",pos\n"two\nlines",neg\nplain,pos\n' });
  const result = await loadTextFile(join(root, 'a.csv'), { text: 'text', label: 'label' });
  t.deepEqual(result.labelNames, ['neg', 'pos']);
  t.deepEqual(result.examples, [
    { text: 'Hello, "world"', label: 1 },
    { text: 'two\nlines', label: 0 },
    { text: 'plain', label: 1 },
  ]);
});

test('generic loader: TSV, JSONL with pairs, a given label map, integer labels with an offset', async (t) => {
  const root = tempTree({
    'a.tsv': 'sentence\tscore\nx "y\t3\nz\t1\n',
    'b.jsonl': '{"premise":"p","hypothesis":"h","gold":"yes"}\n\n{"premise":"q","hypothesis":"r","gold":"no"}\n',
  });
  const tsv = await loadTextFile(join(root, 'a.tsv'), { text: 'sentence', label: 'score', labelOffset: 1 });
  t.deepEqual(tsv.examples, [
    { text: 'x "y', label: 2 },
    { text: 'z', label: 0 },
  ]);
  const jsonl = await loadTextFile(join(root, 'b.jsonl'), {
    text: 'premise',
    textPair: 'hypothesis',
    label: 'gold',
    labels: { no: 0, yes: 1 },
  });
  t.deepEqual(jsonl.examples, [
    { text: 'p', textPair: 'h', label: 1 },
    { text: 'q', textPair: 'r', label: 0 },
  ]);
  t.deepEqual(
    jsonl.skipped.map((s) => [s.line, s.reason]),
    [[2, 'blank line']],
  );
  t.deepEqual([...deriveLabelMap(['10', '2', '1']).keys()], ['1', '2', '10']);
});

test('generic loader: malformed rows name file and line, or are skipped and reported', async (t) => {
  const root = tempTree({ 'a.csv': 'text,label\nok,a\nmissing\nbad,c\n', 'b.jsonl': '{"text": "x"}\nnot json\n' });
  const given = { a: 0, b: 1 };
  await t.throwsAsync(loadTextFile(join(root, 'a.csv'), { text: 'text', label: 'label', labels: given }), {
    code: 'ERR_DATA',
    message: /a\.csv:3: missing label/,
  });
  const skipped = await loadTextFile(join(root, 'a.csv'), { text: 'text', label: 'label', labels: given }, { onMalformed: 'skip' });
  t.is(skipped.examples.length, 1);
  t.deepEqual(
    skipped.skipped.map((s) => s.line),
    [3, 4],
  );
  await t.throwsAsync(loadTextFile(join(root, 'b.jsonl'), { text: 'text' }), { code: 'ERR_DATA', message: /b\.jsonl:2: invalid JSON/ });
  await t.throwsAsync(loadTextFile(join(root, 'nothing.csv'), { text: 'text' }), { code: 'ERR_IO' });
  await t.throwsAsync(loadTextFile(join(root, 'a.xyz'), { text: 'text' }), { code: 'ERR_ARGUMENT' });
});

const textcls = join(sharedData, 'textcls');
(existsSync(textcls) ? test : test.skip)('the paper sets in shared/data have their published row counts', async (t) => {
  const counts: [string, string, number][] = [
    ['emotion', 'train', 16000],
    ['emotion', 'validation', 2000],
    ['emotion', 'test', 2000],
    ['ag_news', 'test', 7600],
    ['twitter_financial_news_topic', 'train', 16990],
    ['twitter_financial_news_topic', 'validation', 4117],
    ['imdb', 'train', 25000],
  ];
  for (const [name, split, rows] of counts) {
    const loaded = await loadSplit(name, textcls, split);
    t.is(loaded.examples.length, rows, `${name} ${split}`);
    t.deepEqual(loaded.skipped, []);
  }
});
