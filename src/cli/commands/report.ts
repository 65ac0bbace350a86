import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AnalyzeOptions, analyze } from '../../analysis/analyze.js';
import { planShapleyCells } from '../../analysis/plan.js';
import { planShapleySweep, readCorruptionEntry } from '../../analysis/plan-from-sweep.js';
import { HealbertError } from '../../errors.js';
import { figureSet } from '../../report/figures.js';
import { renderMarkdown } from '../../report/markdown.js';
import { analysisJsonChunks, REPORT_FORMATS, type ReportFormat, renderFigures, writeReport } from '../../report/render.js';
import { toCsv } from '../../report/table.js';
import { allTables } from '../../report/tables.js';
import { type Command, type CommandContext, numberOption, stringOption, UsageError } from '../command.js';

function seedList(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const seeds = raw.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^\d+$/.test(s)))
    throw new UsageError(`--seeds must be a comma-separated list of non-negative integers, got '${raw}'`);
  return seeds.map(Number);
}

async function output(text: string, out: string, io: CommandContext['io']): Promise<void> {
  if (out === '-') {
    io.stdout.write(text);
    return;
  }
  try {
    await writeFile(out, text);
  } catch (error) {
    throw new HealbertError('ERR_IO', `${out}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  io.stderr.write(`wrote ${out}\n`);
}

async function plan({ positionals, values, io }: CommandContext, file: string): Promise<number> {
  const corruption = await readCorruptionEntry(file);
  const permutations = numberOption(values, 'permutations', { min: 1, max: 100_000, integer: true });
  const permutationSeed = numberOption(values, 'permutation-seed', { min: 0, max: 2 ** 32 - 1, integer: true });
  const numLayers = numberOption(values, 'num-layers', { min: 1, max: 30, integer: true });
  const seeds = seedList(stringOption(values, 'seeds'));
  const extra = { ...(permutations !== undefined ? { permutations } : {}), ...(permutationSeed !== undefined ? { permutationSeed } : {}) };
  let spec: unknown;
  if (positionals[0] !== undefined) {
    spec = await planShapleySweep(positionals[0], {
      corruption,
      ...extra,
      ...(seeds ? { seeds } : {}),
      ...(numLayers !== undefined ? { numLayers } : {}),
    });
  } else {
    const model = stringOption(values, 'model');
    const task = stringOption(values, 'task');
    if (numLayers === undefined || !seeds || !model || !task) {
      throw new UsageError('--plan-shapley without a sweep folder needs --num-layers, --seeds, --model and --task');
    }
    spec = {
      name: 'shapley',
      models: [model],
      tasks: [task],
      cells: planShapleyCells({ layers: numLayers, corruption, seeds, model, task, ...extra }),
    };
  }
  await output(`${JSON.stringify(spec, null, 2)}\n`, stringOption(values, 'out') ?? '-', io);
  return 0;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'Analyse a sweep folder: damage, recovery, layer attribution, dose-response, with intervals; write HTML, Markdown, CSV or JSON.',
  args: '<sweep-dir>',
  positionals: { min: 0, max: 1 },
  description:
    'Reads index.jsonl (else cells/*/result.json) of a sweep folder; unfinished, diverged and failed cells are counted, never averaged in.\n' +
    'Formats: html (report.html, self-contained, plus report.md, figures/*.svg, csv/ and analysis.json), md (report.md + figures/),\n' +
    'json (analysis.json), csv (csv/<table>.csv and csv/figures/<figure>.csv). --out - prints md or json (or one --table as CSV).\n' +
    'With --plan-shapley <corruption.json>, prints a sweep spec whose cells are exactly those a Shapley estimate needs\n' +
    '(all layer subsets, or the prefixes of --permutations seeded permutations) instead of a report.',
  options: {
    out: { type: 'string', valueName: 'dir', description: "output folder, or '-' for standard output", defaultText: '<sweep-dir>/report' },
    format: { type: 'string', valueName: 'f', description: 'html, md, json or csv', defaultText: 'html' },
    table: {
      type: 'string',
      valueName: 'id',
      description: 'with --format csv --out -: the table to print (groups, cells, bottom-top, shapley, ...)',
    },
    seed: { type: 'string', valueName: 'n', description: 'seed of bootstrap and permutation draws', defaultText: '0' },
    resamples: { type: 'string', valueName: 'n', description: 'bootstrap resamples', defaultText: '2000' },
    level: { type: 'string', valueName: 'p', description: 'interval coverage', defaultText: '0.95' },
    alpha: { type: 'string', valueName: 'p', description: 'significance level of tests and power warnings', defaultText: '0.05' },
    'min-damage': { type: 'string', valueName: 'x', description: 'below this damage the recovery ratio is undefined', defaultText: '0.01' },
    'num-layers': { type: 'string', valueName: 'n', description: "the model's encoder layers, when its config.json is not readable" },
    permutations: {
      type: 'string',
      valueName: 'n',
      description:
        "Monte-Carlo Shapley: permutations sampled (with --plan-shapley: sample instead of all subsets; else: the plan's count, default 32)",
    },
    'permutation-seed': {
      type: 'string',
      valueName: 'n',
      description: 'Monte-Carlo Shapley: seed of the sampled permutations',
      defaultText: '0',
    },
    'plan-shapley': {
      type: 'string',
      valueName: 'file.json',
      description: 'print the sweep spec of the cells a Shapley estimate of this corruption needs',
    },
    seeds: { type: 'string', valueName: 'list', description: "with --plan-shapley: seeds (default: the sweep's)" },
    model: { type: 'string', valueName: 'name', description: 'with --plan-shapley and no sweep folder: the model' },
    task: { type: 'string', valueName: 'name', description: 'with --plan-shapley and no sweep folder: the task' },
  },
  examples: [
    'healbert report ./sweeps/tiny',
    'healbert report ./sweeps/tiny --format md --out - > report.md',
    'healbert report ./sweeps/tiny --format csv --table bottom-top --out -',
    'healbert report ./sweeps/tiny --plan-shapley reinit.json --out shapley-sweep.json',
    'healbert report --plan-shapley gaussian.json --num-layers 12 --permutations 32 --seeds 1,2,3 --model bert-base-uncased --task sst2',
  ],
  async run(context) {
    const { positionals, values, io } = context;
    const planFile = stringOption(values, 'plan-shapley');
    if (planFile) return plan(context, planFile);
    const dir = positionals[0];
    if (dir === undefined) throw new UsageError('expected <sweep-dir>');
    const format = (stringOption(values, 'format') ?? 'html') as ReportFormat;
    if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got '${format}'`);
    const out = stringOption(values, 'out') ?? join(dir, 'report');
    const table = stringOption(values, 'table');
    if (table !== undefined && !(format === 'csv' && out === '-')) throw new UsageError('--table goes with --format csv --out -');
    if (out === '-' && format === 'html') throw new UsageError('--out - prints md, json or one csv table; html needs a folder');
    if (out === '-' && format === 'csv' && table === undefined) throw new UsageError('--format csv --out - needs --table <id>');
    const options: AnalyzeOptions = {};
    const set = <K extends keyof AnalyzeOptions>(key: K, value: AnalyzeOptions[K] | undefined) => {
      if (value !== undefined) options[key] = value;
    };
    set('seed', numberOption(values, 'seed', { min: 0, max: 2 ** 32 - 1, integer: true }));
    set('resamples', numberOption(values, 'resamples', { min: 100, max: 1_000_000, integer: true }));
    set('level', numberOption(values, 'level', { min: 0.5, max: 0.999 }));
    set('alpha', numberOption(values, 'alpha', { min: 1e-6, max: 0.5 }));
    set('minDamage', numberOption(values, 'min-damage', { min: 0 }));
    set('numLayers', numberOption(values, 'num-layers', { min: 1, max: 1000, integer: true }));
    const permutations = numberOption(values, 'permutations', { min: 1, max: 100_000, integer: true });
    const permutationSeed = numberOption(values, 'permutation-seed', { min: 0, max: 2 ** 32 - 1, integer: true });
    if (permutations !== undefined || permutationSeed !== undefined) {
      options.shapley = {
        ...(permutations !== undefined ? { permutations } : {}),
        ...(permutationSeed !== undefined ? { seed: permutationSeed } : {}),
      };
    }
    const analysis = await analyze(dir, options);
    if (out === '-') {
      if (format === 'json') {
        let buffer = '';
        for (const chunk of analysisJsonChunks(analysis)) {
          buffer += chunk;
          if (buffer.length >= 1 << 20) {
            io.stdout.write(buffer);
            buffer = '';
          }
        }
        io.stdout.write(buffer);
      } else if (format === 'md') {
        const { figures, omitted } = figureSet(analysis);
        io.stdout.write(
          renderMarkdown(analysis, await renderFigures(analysis, figures), allTables(analysis), { figureDir: null, omitted }),
        );
      } else {
        const tables = allTables(analysis);
        const chosen = tables.find((t) => t.id === table);
        if (!chosen) throw new UsageError(`--table must be one of ${tables.map((t) => t.id).join(', ')}, got '${table}'`);
        io.stdout.write(toCsv(chosen));
      }
    } else {
      const written = await writeReport(analysis, out, format);
      const main = written.find((f) => f.endsWith('report.html')) ?? written.find((f) => f.endsWith('report.md')) ?? written[0];
      io.stdout.write(
        `${analysis.cells.length} cells (${analysis.counts.done} done, ${analysis.counts.diverged} diverged, ${analysis.counts.failed} failed, ${analysis.counts.running} running, ${analysis.counts.pending} not started)\n`,
      );
      for (const w of analysis.warnings) io.stdout.write(`warning: ${w}\n`);
      io.stdout.write(`wrote ${written.length} files to ${out}${main ? ` (open ${main})` : ''}\n`);
    }
    return 0;
  },
};
