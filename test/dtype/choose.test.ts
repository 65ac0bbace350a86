/** The pure half of `dtype: "auto"`: the decision rule and the /proc/cpuinfo parser (no addon needed). */
import test from 'ava';
import { chooseDtype, type DtypeChoice, type DtypeFacts, MIN_CPU_BF16_SPEEDUP, needsMeasurement } from '../../src/dtype/choose.js';
import { parseCpuInfo } from '../../src/dtype/cpu.js';
import { bestSpeed } from '../../src/dtype/measure.js';

const cases: [string, DtypeChoice, DtypeFacts, 'float32' | 'bfloat16', RegExp][] = [
  ['explicit float32 on CUDA stays', 'float32', { device: 'cuda', nativeBf16: null }, 'float32', /asked for/],
  ['explicit bfloat16 on a CPU without bf16 stays', 'bfloat16', { device: 'cpu', nativeBf16: false }, 'bfloat16', /asked for/],
  ['auto on CUDA', 'auto', { device: 'cuda', nativeBf16: false }, 'bfloat16', /CUDA/],
  ['auto on cuda:3', 'auto', { device: 'cuda:3', nativeBf16: null }, 'bfloat16', /CUDA/],
  ['auto on a native-bf16 CPU that measures 3x', 'auto', { device: 'cpu', nativeBf16: true, speedup: 3 }, 'bfloat16', /3\.00x/],
  ['auto at exactly the threshold', 'auto', { device: 'cpu', nativeBf16: true, speedup: MIN_CPU_BF16_SPEEDUP }, 'bfloat16', /1\.50x/],
  ['auto just below the threshold', 'auto', { device: 'cpu', nativeBf16: true, speedup: 1.49 }, 'float32', /1\.49x float32, below 1\.5x/],
  ['auto on a native-bf16 CPU that is slower in bf16', 'auto', { device: 'cpu', nativeBf16: true, speedup: 0.4 }, 'float32', /below/],
  ['auto with native bf16 but no measurement', 'auto', { device: 'cpu', nativeBf16: true }, 'float32', /not measured/],
  ['auto with a NaN measurement', 'auto', { device: 'cpu', nativeBf16: true, speedup: Number.NaN }, 'float32', /not measured/],
  // Emulated bf16 can still beat a slow float32 path; without the flags auto does not trust it.
  [
    'auto on a CPU without bf16, even if it measured fast',
    'auto',
    { device: 'cpu', nativeBf16: false, speedup: 5 },
    'float32',
    /no native bf16/,
  ],
  ['auto where the flags are unknown (not Linux)', 'auto', { device: 'cpu', nativeBf16: null, speedup: 5 }, 'float32', /unknown/],
];

for (const [name, choice, facts, dtype, reason] of cases) {
  test(`chooseDtype: ${name}`, (t) => {
    const decision = chooseDtype(choice, facts);
    t.is(decision.dtype, dtype);
    t.regex(decision.reason, reason);
  });
}

test('needsMeasurement: only auto on a CPU with native bf16 pays for the timing', (t) => {
  t.true(needsMeasurement('auto', { device: 'cpu', nativeBf16: true }));
  t.false(needsMeasurement('auto', { device: 'cpu', nativeBf16: false }));
  t.false(needsMeasurement('auto', { device: 'cpu', nativeBf16: null }));
  t.false(needsMeasurement('auto', { device: 'cuda:0', nativeBf16: true }));
  t.false(needsMeasurement('bfloat16', { device: 'cpu', nativeBf16: true }));
});

const x86 = (model: string, flags: string) =>
  `processor\t: 0\nvendor_id\t: X\nmodel name\t: ${model}\nflags\t\t: ${flags}\n\nprocessor\t: 1\nmodel name\t: ${model}\nflags\t\t: ${flags}\n`;

test('parseCpuInfo: x86 flags with and without native bf16', (t) => {
  t.deepEqual(parseCpuInfo(x86('AMD EPYC 9B45', 'fpu sse2 avx512f avx512_bf16 avx512_vnni')), {
    model: 'AMD EPYC 9B45',
    nativeBf16: true,
    bf16Flags: ['avx512_bf16'],
  });
  t.deepEqual(parseCpuInfo(x86('Intel(R) Xeon(R) Platinum 8481C', 'avx512f avx512_bf16 amx_bf16 amx_tile amx_int8')), {
    model: 'Intel(R) Xeon(R) Platinum 8481C',
    nativeBf16: true,
    bf16Flags: ['amx_bf16', 'avx512_bf16'],
  });
  // avx512f alone (Skylake, Zen 3 has not even that): oneDNN emulates bf16.
  t.deepEqual(parseCpuInfo(x86('Intel(R) Xeon(R) Gold 6148', 'fpu sse2 avx2 avx512f avx512bw')), {
    model: 'Intel(R) Xeon(R) Gold 6148',
    nativeBf16: false,
    bf16Flags: [],
  });
});

test('parseCpuInfo: arm64 Features, and a text without flags', (t) => {
  const arm = 'processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd sve bf16 svebf16 i8mm\nCPU implementer\t: 0x41\n';
  t.deepEqual(parseCpuInfo(arm), { model: null, nativeBf16: true, bf16Flags: ['bf16'] });
  t.deepEqual(parseCpuInfo('processor\t: 0\nmodel name\t: Something\n'), { model: 'Something', nativeBf16: null, bf16Flags: [] });
});

test('bestSpeed measures again only while the speed-up stays below the bar, and keeps the best', async (t) => {
  const run = async (figures: number[]) => {
    const queue = [...figures];
    let calls = 0;
    const best = await bestSpeed(async () => ({ speedup: queue[calls++] as number }), 1.5, 3);
    return { best: best.speedup, calls };
  };
  t.deepEqual(await run([4, 1, 1]), { best: 4, calls: 1 });
  t.deepEqual(await run([1.18, 3.2, 1]), { best: 3.2, calls: 2 });
  t.deepEqual(await run([0.6, 0.7, 0.65]), { best: 0.7, calls: 3 });
  t.deepEqual(await run([Number.NaN, 0.9, 0.8]), { best: 0.9, calls: 3 });
});
