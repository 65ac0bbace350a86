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

/**
 * Debian's libtorch runs its own ops on OpenMP threads and its matrix products on OpenBLAS's pthreads. With
 * OpenMP's default wait policy the idle OpenMP threads spin while OpenBLAS works, and the two pools fight for
 * the same cores: measured on 2 cores (mini-BERT, batch 32 x 128), a training step took 1.0-1.5 s spinning
 * and 0.6-0.9 s with OMP_WAIT_POLICY=PASSIVE. libgomp reads the variable once, when it is loaded, so it must
 * be set before the addon loads; a value the user set is kept. Returns the policy in effect.
 */
export function defaultOpenMpWaitPolicy(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OMP_WAIT_POLICY === undefined || env.OMP_WAIT_POLICY === '') env.OMP_WAIT_POLICY = 'PASSIVE';
  return env.OMP_WAIT_POLICY;
}
