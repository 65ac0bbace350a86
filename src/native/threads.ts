/**
 * How many CPU threads libtorch uses. Inside Node, OpenMP builds of libtorch start with one thread unless
 * OMP_NUM_THREADS says otherwise, which would leave most of a CPU idle; healbert uses the machine's
 * available parallelism unless the user set OMP_NUM_THREADS or HEALBERT_THREADS.
 */
import { availableParallelism } from 'node:os';
import { HealbertError } from '../errors.js';

export function resolveThreadCount(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const explicit = env.HEALBERT_THREADS;
  if (explicit !== undefined && explicit !== '') {
    const n = Number(explicit);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      throw new HealbertError('ERR_ARGUMENT', `HEALBERT_THREADS must be an integer in [1, 1024], got '${explicit}'`);
    }
    return n;
  }
  if (env.OMP_NUM_THREADS !== undefined && env.OMP_NUM_THREADS !== '') return undefined; // libtorch honours it
  return availableParallelism();
}
