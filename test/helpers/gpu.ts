import test from 'ava';

/** GPU tests run only on the GPU machine: HEALBERT_TEST_GPU=1 (see scripts/gpu-check.sh). */
export const gpuEnabled = process.env.HEALBERT_TEST_GPU === '1';
export const gpuTest = gpuEnabled ? test : test.skip;
