/** loadSplit: one split of any task in the table, from a data root. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import type { LoadedSplit, LoadOptions } from './examples.js';
import { readGlueTsv } from './glue.js';
import { getTask, resolveSplit, type Task } from './tasks.js';
import { loadTextFile } from './text-files.js';

/** The file (or, for aclImdb, the folder) a split reads. */
export function splitPath(task: Task, dataRoot: string, split: string): string {
  const resolved = resolveSplit(task, split);
  return join(dataRoot, task.dir, (task.splits[resolved] as { file: string }).file);
}

/**
 * Loads one split. GLUE tasks read `<dataRoot>/<Task>/<split>.tsv`; the other presets read
 * `<dataRoot>/<dir>/<file>`. Malformed rows are errors (ERR_DATA, with file and line) unless
 * `onMalformed: 'skip'`, which leaves them out and lists them in `skipped`.
 */
export async function loadSplit(
  taskOrName: Task | string,
  dataRoot: string,
  split: string,
  options: LoadOptions = {},
): Promise<LoadedSplit> {
  const task = typeof taskOrName === 'string' ? getTask(taskOrName) : taskOrName;
  const resolved = resolveSplit(task, split);
  const file = splitPath(task, dataRoot, resolved);
  if (task.kind === 'glue') {
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists)
      throw new HealbertError(
        'ERR_IO',
        `${task.name} ${resolved}: ${file} does not exist (expected the GLUE layout <root>/${task.dir}/${task.splits[resolved]?.file})`,
      );
    const { examples, skipped } = await readGlueTsv(
      file,
      task,
      task.splits[resolved] as NonNullable<(typeof task.splits)[string]>,
      options,
    );
    return { task: task.name, split: resolved, file, examples, labelNames: task.labelNames, isRegression: task.isRegression, skipped };
  }
  const spec = task.splits[resolved] as NonNullable<(typeof task.splits)[string]>;
  const { file: _file, ...fileOptions } = spec;
  const result = await loadTextFile(file, fileOptions, { ...options, labelNames: task.labelNames });
  return {
    task: task.name,
    split: resolved,
    file,
    examples: result.examples,
    labelNames: task.labelNames,
    isRegression: false,
    skipped: result.skipped,
  };
}
