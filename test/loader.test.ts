import test from 'ava';
import { explainLoadFailure } from '../src/native/binding.js';
import { defaultOpenMpWaitPolicy, resolveThreadCount } from '../src/native/threads.js';

test('load failures get a remedy for the common causes', (t) => {
  t.regex(explainLoadFailure('No native build was found for platform=linux'), /npm run build:native/);
  t.regex(explainLoadFailure('libtorch_cpu.so: cannot open shared object file: No such file or directory'), /missing at run time/);
  t.regex(explainLoadFailure('healbert.node: undefined symbol: _ZN3c106detail14torchCheckFail'), /different libtorch/);
  t.regex(explainLoadFailure('libcudart.so.13: cannot open shared object file'), /CUDA/);
});

test('thread count: HEALBERT_THREADS wins, OMP_NUM_THREADS is left to libtorch, else all cores', (t) => {
  t.is(resolveThreadCount({ HEALBERT_THREADS: '3' }), 3);
  t.is(resolveThreadCount({ OMP_NUM_THREADS: '2' }), undefined);
  t.true((resolveThreadCount({}) ?? 0) >= 1);
  t.throws(() => resolveThreadCount({ HEALBERT_THREADS: 'many' }), { message: /HEALBERT_THREADS/ });
});

test('OpenMP threads wait passively unless the user chose a policy', (t) => {
  const unset: NodeJS.ProcessEnv = {};
  t.is(defaultOpenMpWaitPolicy(unset), 'PASSIVE');
  t.is(unset.OMP_WAIT_POLICY, 'PASSIVE');
  const chosen: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'ACTIVE' };
  t.is(defaultOpenMpWaitPolicy(chosen), 'ACTIVE');
});
