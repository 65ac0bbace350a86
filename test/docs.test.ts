/**
 * Docs that cannot go stale: every `healbert ...` command line in README.md and docs/ is checked against the
 * CLI's own option tables, every ```ts example type-checks against the library's types, and the analysis
 * guide's definitions are the ones the reports print. No addon, no training: a few seconds.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import test from 'ava';
import { DEFINITIONS } from '../src/analysis/definitions.js';
import { commands } from '../src/cli/commands/index.js';
import {
  checkCommandLine,
  extractCommandLines,
  extractTypeScriptExamples,
  headingAnchors,
  markdownLinks,
  typeCheckExamples,
} from './helpers/doc-commands.js';

const root = join(import.meta.dirname, '..');

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md') && !f.split(/[\\/]/).includes('api'))
    .map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), ...docs.sort()];
}

const files = markdownFiles().map((path) => ({ path, name: relative(root, path), text: readFileSync(path, 'utf8') }));

test('every healbert command line in README.md and docs/ is one the CLI accepts', (t) => {
  const problems: string[] = [];
  let checked = 0;
  for (const { name, text } of files) {
    for (const line of extractCommandLines(text, name)) {
      checked++;
      for (const problem of checkCommandLine(line, commands)) problems.push(`${line.file}:${line.line}: ${problem}\n    ${line.text}`);
    }
  }
  t.true(checked > 50, `only ${checked} command lines found: is the extraction broken?`);
  t.deepEqual(problems, [], `stale command lines:\n${problems.join('\n')}`);
});

test('the checker fails a stale flag, a removed command and a missing argument, naming file and line', (t) => {
  const markdown = [
    '# A guide',
    '',
    '```sh',
    'healbert sweep examples/quick-sst2.yaml --out results/quick --workerz 2',
    'scripts/setup.sh && npx healbert demo --seeds 6',
    'healbert train ./bert --epochs 3',
    '```',
    '',
    'Then `healbert corrupt ./bert --method zero --layers 3 --out ./zeroed` (no seed) and `healbert scan ./bert --task sst2',
    '--data ./glue --method reinit --each layer --out ./s --colour`, wrapped; `healbert report ... --format md` is a template.',
  ].join('\n');
  const lines = extractCommandLines(markdown, 'guide.md');
  t.deepEqual(
    lines.map((l) => [l.line, l.text.split(' ')[1]]),
    [
      [4, 'sweep'],
      [5, 'demo'],
      [6, 'train'],
      [9, 'corrupt'],
      [9, 'scan'],
      [10, 'report'],
    ],
  );
  const problems = lines.flatMap((l) => checkCommandLine(l, commands).map((p) => `${l.file}:${l.line}: ${p}`));
  t.is(problems.length, 4, problems.join('\n'));
  t.regex(problems[0] as string, /^guide\.md:4: healbert sweep: Unknown option '--workerz'/);
  t.regex(problems[1] as string, /^guide\.md:6: unknown command 'train'/);
  t.regex(problems[2] as string, /^guide\.md:9: healbert corrupt: missing required --seed/);
  t.regex(problems[3] as string, /^guide\.md:9: healbert scan: Unknown option '--colour'/);
});

test('every link between README.md and the guides points at a file and heading that exist', (t) => {
  const problems: string[] = [];
  for (const { path, name } of files) {
    const text = readFileSync(path, 'utf8');
    // An unclosed fence would swallow the rest of the file (and hide its commands from the checks above).
    if ((text.match(/^\s*```/gm)?.length ?? 0) % 2 !== 0) problems.push(`${name}: a code fence is not closed`);
    for (const link of markdownLinks(text)) {
      const target = link.file === '' ? path : join(dirname(path), link.file);
      if (!existsSync(target)) problems.push(`${name}:${link.line}: ${link.file}: no such file`);
      else if (link.anchor && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(link.anchor))
        problems.push(`${name}:${link.line}: ${link.file}#${link.anchor}: no such heading`);
    }
  }
  t.deepEqual(problems, [], problems.join('\n'));
  // The README's link to the head-level recipe is one a reader can follow; a renamed heading would not be.
  const anchors = headingAnchors(readFileSync(join(root, 'docs', 'sweeps.md'), 'utf8'));
  t.true(anchors.has('head-level-sweeps') && !anchors.has('head-sweeps'));
  t.deepEqual(markdownLinks('see [x](sweeps.md#nope), `[not](a.md)`, [web](https://example.com)'), [
    { line: 1, file: 'sweeps.md', anchor: 'nope' },
  ]);
});

test("every example in the commands' --help is one the CLI accepts", (t) => {
  const problems: string[] = [];
  let checked = 0;
  for (const command of commands) {
    const block = ['```sh', ...(command.examples ?? []), '```'].join('\n');
    for (const line of extractCommandLines(block, `healbert ${command.name} --help`)) {
      checked++;
      for (const problem of checkCommandLine(line, commands))
        problems.push(`${line.file}, example ${line.line - 1}: ${problem}\n    ${line.text}`);
    }
  }
  t.true(checked > 20, `only ${checked} examples found`);
  t.deepEqual(problems, [], problems.join('\n'));
});

test('an option described as required is declared required, so the docs check knows it', (t) => {
  for (const command of commands) {
    for (const [name, spec] of Object.entries(command.options)) {
      t.is(spec.required === true, spec.description.includes('(required)'), `healbert ${command.name} --${name}`);
    }
  }
});

test('the example specs in examples/ parse and expand', async (t) => {
  const { loadSpec } = await import('../src/sweep/run.js');
  const { expandSweep } = await import('../src/sweep/expand.js');
  const specs = readdirSync(join(root, 'examples')).filter((f) => /\.ya?ml$|\.json$/.test(f));
  t.true(specs.length >= 3);
  for (const file of specs) {
    const { spec } = await loadSpec(join(root, 'examples', file));
    t.true(expandSweep(spec).cells.length > 0, file);
  }
});

test("the analysis guide's definitions are the ones every report prints", (t) => {
  const guide = files.find((f) => f.name === join('docs', 'analysis.md'))?.text ?? '';
  for (const [term, definition] of Object.entries(DEFINITIONS)) t.true(guide.includes(`- **${term}**: ${definition}\n`), term);
});

test('every ts example in README.md and docs/ type-checks against the library', (t) => {
  const examples = files.flatMap(({ name, text }) => extractTypeScriptExamples(text, name));
  t.true(examples.length >= 4, `only ${examples.length} examples found`);
  const bad = { file: 'guide.md', line: 10, code: "import { Model } from 'healbert';\nawait Model.load('./m', { numLabel: 2 });" };
  const problems = typeCheckExamples([...examples, bad], root);
  // The synthetic example shows that the check sees the library's types: a misspelt option is an error.
  t.regex(problems.pop() ?? '', /^guide\.md:11: .*numLabel/);
  t.deepEqual(problems, [], `examples that do not type-check:\n${problems.join('\n')}`);
});
