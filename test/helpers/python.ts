/**
 * Hugging Face transformers in Python as the reference: the pip-torch test lane (scripts/test-lane.sh cpu)
 * sets HEALBERT_PYTHON to its environment's python, which has torch 2.13, transformers and tokenizers.
 * Elsewhere the tests that need it are skipped with one line that says how to run them.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { packageRoot } from '../../src/native/binding.js';

export const referencePython: string | undefined = process.env.HEALBERT_PYTHON || undefined;

/** `test` where transformers is available, else `test.skip`. */
export const transformersTest = referencePython ? test : test.skip;

/** Call once per file: one skipped test whose title says how to run the file's transformers tests. */
export function noteWhenSkipped(what: string): void {
  if (!referencePython) test.skip(`${what} (needs transformers: scripts/test-lane.sh cpu runs it; or set HEALBERT_PYTHON)`, () => {});
}

/** The folder of the Python scripts the tests call (test/python/). */
export const pythonScripts = join(packageRoot, 'test', 'python');

/**
 * Runs `python <script> ...args` with the reference python and returns its stdout; throws with the
 * script's stderr on a non-zero exit, so a failing reference shows its traceback in the test output.
 */
export function runPython(script: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): string {
  if (!referencePython) throw new Error('HEALBERT_PYTHON is not set');
  const result = spawnSync(referencePython, [join(pythonScripts, script), ...args], {
    encoding: 'utf8',
    input: options.input,
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 1 << 30,
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${script} exited with ${result.status}:\n${result.stderr}`);
  return result.stdout;
}
