/**
 * healbert's tokenizers against Hugging Face transformers' Python `AutoTokenizer.from_pretrained(folder)`
 * (what users of transformers call), through test/python/tokenize_reference.py in the pip-torch lane.
 * Inputs: every GLUE dev row of the dev sets in test/fixtures/tokenizer/glue-dev.jsonl.gz (pairs as pairs;
 * written by make-glue-dev.ts) and the edge cases of inputs.jsonl, at max lengths none, 128 and 16
 * (truncation=True, longest_first), plus the edge cases without special tokens. Ids must be equal exactly;
 * so must token_type_ids where transformers returns them, and the attention mask must be all ones.
 * One Python process encodes everything for all four models (most of this file's time); the rest is
 * healbert's own encoding.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { noteWhenSkipped, referencePython, runPython, transformersTest } from '../helpers/python.js';
import { fixtures, models, parityInputs } from './helpers.js';

noteWhenSkipped('healbert tokenizers equal transformers AutoTokenizer on every GLUE dev row and the edge cases');

const MODELS = ['bert-base-uncased', 'bert-base-cased', 'roberta-base', 'distilbert-base-uncased'];
const MAX_LENGTHS: (number | null)[] = [null, 128, 16];

interface Row {
  task: string;
  text: string;
  text_pair?: string;
}

interface Job {
  model: string;
  tokenizer: string;
  max_length: number | null;
  add_special_tokens: boolean;
  start: number;
  end: number;
  reuse_untruncated: boolean;
}

interface Line {
  job: number;
  index: number;
  input_ids: number[];
  token_type_ids?: number[];
  attention_mask: number[];
}

interface Meta {
  transformers: string;
  tokenizers: string;
  jobs: { class: string; model_input_names: string[] }[];
}

function readRows(): { rows: Row[]; edgeCount: number } {
  const edge: Row[] = parityInputs().map((x) => ({ task: 'edge', ...x }));
  const glue = gunzipSync(readFileSync(join(fixtures, 'tokenizer', 'glue-dev.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Row);
  return { rows: [...edge, ...glue], edgeCount: edge.length };
}

/**
 * Per model: the edge cases at every max length, with and without special tokens, each encoded by
 * transformers; the GLUE rows at every max length, where a row that fits untruncated is not encoded again
 * at 128 and 16 (reuse_untruncated, see tokenize_reference.py: nearly all of them at 128).
 */
function plan(rowCount: number, edgeCount: number): Job[] {
  const jobs: Job[] = [];
  for (const model of MODELS) {
    const tokenizer = join(models, model);
    const job = (maxLength: number | null, addSpecial: boolean, start: number, end: number, reuse = false) =>
      jobs.push({ model, tokenizer, max_length: maxLength, add_special_tokens: addSpecial, start, end, reuse_untruncated: reuse });
    for (const maxLength of MAX_LENGTHS) job(maxLength, true, 0, edgeCount);
    for (const maxLength of [null, 16]) job(maxLength, false, 0, edgeCount);
    for (const maxLength of MAX_LENGTHS) job(maxLength, true, edgeCount, rowCount, maxLength !== null);
  }
  return jobs;
}

interface Reference {
  rows: Row[];
  jobs: Job[];
  meta: Meta;
  lines: Line[];
  /** Per job, how many inputs transformers encoded (the others fit untruncated: reuse_untruncated). */
  encoded: number[];
}

let reference: Reference | undefined;

/** transformers' encodings of every job, from one Python process shared by the tests of this file. */
function transformersReference(): Reference {
  if (reference) return reference;
  const { rows, edgeCount } = readRows();
  const jobs = plan(rows.length, edgeCount);
  const request = { inputs: rows.map(({ text, text_pair }) => ({ text, text_pair })), jobs };
  const output = runPython('tokenize_reference.py', [], { input: JSON.stringify(request) }).split('\n');
  if (output.at(-1) === '') output.pop();
  const meta = (JSON.parse(output[0] as string) as { meta: Meta }).meta;
  const { encoded } = JSON.parse(output.at(-1) as string) as { encoded: number[] };
  const lines = output.slice(1, -1).map((l) => JSON.parse(l) as Line);
  reference = { rows, jobs, meta, lines, encoded };
  return reference;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

// Registered only where transformers runs, so that elsewhere the file shows the one skipped line above.
for (const model of referencePython ? MODELS : []) {
  transformersTest(
    `${model}: ids equal transformers AutoTokenizer on every GLUE dev row and edge case, max length none, 128, 16`,
    async (t) => {
      const { rows, jobs, meta, lines, encoded } = transformersReference();
      const tokenizer = await loadTokenizer(join(models, model));
      const mine = new Set(jobs.flatMap((job, j) => (job.model === model ? [j] : [])));
      const first = meta.jobs[[...mine][0] as number];
      t.log(`transformers ${meta.transformers}, tokenizers ${meta.tokenizers}: ${first?.class} (${first?.model_input_names.join(', ')})`);
      const counts = new Map<number, number>();
      let mismatches = 0;
      for (const line of lines) {
        if (!mine.has(line.job)) continue;
        counts.set(line.job, (counts.get(line.job) ?? 0) + 1);
        const job = jobs[line.job] as Job;
        const row = rows[line.index] as Row;
        const options = { addSpecialTokens: job.add_special_tokens, ...(job.max_length === null ? {} : { maxLength: job.max_length }) };
        const actual = tokenizer.encode(row.text, row.text_pair, options);
        const ok =
          same(actual.inputIds, line.input_ids) &&
          (line.token_type_ids === undefined || same(actual.tokenTypeIds, line.token_type_ids)) &&
          line.attention_mask.length === line.input_ids.length &&
          line.attention_mask.every((m) => m === 1);
        if (ok) continue;
        if (mismatches++ < 10) {
          t.log(
            [
              `${model} max_length ${job.max_length} add_special_tokens ${job.add_special_tokens}, row ${line.index} (${row.task}):`,
              `  ${JSON.stringify(row.text_pair === undefined ? row.text : [row.text, row.text_pair]).slice(0, 400)}`,
              `  transformers input_ids      ${line.input_ids.join(' ')}`,
              `  healbert     input_ids      ${actual.inputIds.join(' ')}`,
              ...(line.token_type_ids === undefined
                ? []
                : [
                    `  transformers token_type_ids ${line.token_type_ids.join(' ')}`,
                    `  healbert     token_type_ids ${actual.tokenTypeIds.join(' ')}`,
                  ]),
            ].join('\n'),
          );
        }
      }
      const compared = [...counts.values()].reduce((a, b) => a + b, 0);
      // Every job came back whole: no input was dropped on the way.
      for (const j of mine) t.is(counts.get(j), (jobs[j] as Job).end - (jobs[j] as Job).start, `job ${j} line count`);
      t.log(
        `${compared} encodings compared: ${[...mine]
          .map((j) => {
            const job = jobs[j] as Job;
            const what = job.start === 0 ? 'edge cases' : 'GLUE rows';
            const reused = job.reuse_untruncated ? ` (${encoded[j]} longer ones encoded again)` : '';
            return `${job.end - job.start} ${what} at max ${job.max_length ?? 'none'}${job.add_special_tokens ? '' : ' without special tokens'}${reused}`;
          })
          .join(', ')}`,
      );
      t.is(mismatches, 0, `${model}: ${mismatches} of ${compared} encodings differ from transformers`);
    },
  );
}
