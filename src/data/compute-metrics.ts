/** computeMetrics: a task's own metric set (from the task table) over predictions and labels. */
import { HealbertError } from '../errors.js';
import { type MetricName, metric, type Values } from './metrics.js';
import { getTask, type Task } from './tasks.js';

/** A task's metrics for one set of predictions, and its main metric. */
export interface MetricResult {
  /** Each metric of the task, in the task's order. */
  values: Partial<Record<MetricName, number>>;
  /** The task's main metric (the first) and its value. */
  main: { name: MetricName; value: number };
}

/**
 * GLUE: CoLA and AX mcc; SST-2, MNLI (-m and -mm), QNLI, RTE, WNLI accuracy; MRPC and QQP F1 and accuracy;
 * STS-B Pearson and Spearman. The paper's other sets: F1 (macro-F1 for multi-class, with weighted-F1 and
 * accuracy). `metrics` replaces the task's list.
 */
export function computeMetrics(taskOrName: Task | string, predictions: Values, labels: Values, metrics?: MetricName[]): MetricResult {
  const task = typeof taskOrName === 'string' ? getTask(taskOrName) : taskOrName;
  const names = metrics ?? task.metrics;
  if (names.length === 0) throw new HealbertError('ERR_ARGUMENT', 'no metrics requested');
  if (!task.isRegression) {
    for (const [what, values] of [
      ['predictions', predictions],
      ['labels', labels],
    ] as const) {
      for (let i = 0; i < values.length; i++) {
        if (!Number.isInteger(values[i]))
          throw new HealbertError('ERR_ARGUMENT', `${task.name}: ${what}[${i}] = ${values[i]} is not a class id`);
      }
    }
  }
  const values: Partial<Record<MetricName, number>> = {};
  for (const name of names) values[name] = metric(name, predictions, labels);
  const main = names[0] as MetricName;
  return { values, main: { name: main, value: values[main] as number } };
}
