import test from 'ava';
import { doctor } from '../src/doctor.js';
import { chooseDtype } from '../src/dtype/choose.js';
import { loadNative } from '../src/native/binding.js';
import { gpuTest } from './helpers/gpu.js';

const native = loadNative();

test('runtime info names a real libtorch', (t) => {
  const info = native.runtimeInfo();
  t.regex(info.torchVersion, /^\d+\.\d+\.\d+/);
  t.is(`${info.torchMajor}.${info.torchMinor}`, info.torchVersion.split('.').slice(0, 2).join('.'));
  t.true(info.numThreads >= 1);
  t.is(info.cudaDevices.length, info.cudaAvailable ? info.cudaDevices.length : 0);
  t.true(info.torchSource.length > 0);
});

test('the CPU smoke test multiplies matrices correctly', async (t) => {
  const result = await native.smokeTest('cpu', 64);
  t.true(result.ok);
  t.is(result.device, 'cpu');
  t.true(result.maxAbsDiff < 1e-3, `max diff ${result.maxAbsDiff}`);
});

test('unknown or unavailable devices fail with ERR_DEVICE', async (t) => {
  for (const device of ['tpu', 'cuda:99', 'cpu:x']) {
    const error = await t.throwsAsync(native.smokeTest(device, 4));
    t.is((error as Error & { code: string }).code, 'ERR_DEVICE', device);
  }
  if (!native.runtimeInfo().cudaAvailable) {
    const error = await t.throwsAsync(native.smokeTest('cuda', 4));
    t.regex(error.message, /CUDA is not available/);
  }
});

test('a smoke size out of range fails with ERR_ARGUMENT', async (t) => {
  const error = await t.throwsAsync(native.smokeTest('cpu', 0));
  t.is((error as Error & { code: string }).code, 'ERR_ARGUMENT');
});

test('doctor checks every device and reports ok', async (t) => {
  const report = await doctor({ size: 32 });
  t.true(report.ok);
  t.is(report.checks[0]?.device, 'cpu');
  t.is(report.checks.length, 1 + report.runtime.cudaDevices.length);
});

test('doctor reports the CPU, its native bf16, a measured bf16 matmul speed-up, and what auto picks', async (t) => {
  const report = await doctor({ size: 8, matmul: { m: 96, k: 64, n: 80, reps: 2 } });
  t.true(report.ok);
  const { cpu } = report;
  t.true(cpu.model === null || cpu.model.length > 0);
  if (process.platform === 'linux') t.is(typeof cpu.nativeBf16, 'boolean');
  else t.is(cpu.nativeBf16, null);
  t.is(cpu.nativeBf16 === true, cpu.bf16Flags.length > 0);
  if ('error' in cpu.bf16Matmul) return t.fail(cpu.bf16Matmul.error.message);
  t.like(cpu.bf16Matmul, { device: 'cpu', m: 96, k: 64, n: 80, reps: 2 });
  t.true(cpu.bf16Matmul.float32Ms > 0 && cpu.bf16Matmul.bfloat16Ms > 0);
  t.is(cpu.bf16Matmul.speedup, cpu.bf16Matmul.float32Ms / cpu.bf16Matmul.bfloat16Ms);
  t.deepEqual(Object.keys(report.dtypeAuto), ['cpu', ...report.runtime.cudaDevices.map((d) => `cuda:${d.index}`)]);
  t.deepEqual(report.dtypeAuto.cpu, chooseDtype('auto', { device: 'cpu', nativeBf16: cpu.nativeBf16, speedup: cpu.bf16Matmul.speedup }));
});

test('matmulSpeed rejects sides and repetitions out of range with ERR_ARGUMENT', async (t) => {
  for (const [m, reps] of [
    [0, 1],
    [8193, 1],
    [4, 0],
    [4, 51],
  ] as const) {
    const error = await t.throwsAsync(native.matmulSpeed('cpu', m, 4, 4, reps));
    t.is((error as Error & { code: string }).code, 'ERR_ARGUMENT', `${m} ${reps}`);
  }
});

gpuTest('GPU: CUDA is available and the smoke test passes on every device', async (t) => {
  const report = await doctor({ size: 1024 });
  t.true(report.runtime.builtWithCuda);
  t.true(report.runtime.cudaAvailable);
  t.true(report.runtime.cudaDevices.length >= 1);
  t.true(report.runtime.cudaDevices.every((d) => d.name.length > 0));
  t.true(
    report.checks.every((c) => c.ok),
    JSON.stringify(report.checks),
  );
  for (const d of report.runtime.cudaDevices) t.like(report.dtypeAuto[`cuda:${d.index}`], { dtype: 'bfloat16', reason: 'CUDA' });
});
