/** What every loader returns: examples with their labels, and an account of what was not used. */

export interface Example {
  text: string;
  textPair?: string;
  /** Class id (classification) or target (regression); absent for unlabelled splits. */
  label?: number;
}

/** A row that was skipped (only with `onMalformed: 'skip'`; by default malformed rows are errors). */
export interface SkippedRow {
  file: string;
  line: number;
  reason: string;
}

/** One split of a task as loaded: its examples, label names and the rows skipped as malformed. */
export interface LoadedSplit {
  task: string;
  split: string;
  file: string;
  examples: Example[];
  /** Class names (index = id); empty for regression. */
  labelNames: string[];
  isRegression: boolean;
  /** Rows skipped, each with its file and line. Blank lines count here too. */
  skipped: SkippedRow[];
}

/** How loading treats a malformed row: stop with ERR_DATA (default) or skip and report it. */
export interface LoadOptions {
  /** 'error' (default): a malformed row stops loading with ERR_DATA naming file and line. 'skip': it is left out and reported. */
  onMalformed?: 'error' | 'skip';
}
