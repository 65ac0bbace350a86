/**
 * The effects behind `dtype: "auto"`: the CPU's bf16 flags (cpu.ts) and one timed matrix product in each
 * dtype (the engine's matmulSpeed), fed to the pure rule in choose.ts.
 *
 * The measurement is taken once per process and kept in memory only. A sweep resolves its dtype once, in
 * the process that writes the sweep folder's spec.json, and its worker processes read the resolved dtype
 * from there, so no cell measures. A cache on disk would save well under a second per command at the
 * price of a stale answer: the ratio depends on the thread count, the cgroup's CPU share and the libtorch
 * as much as on the CPU, and a VM's model name ("AMD EPYC") does not even say which generation it is.
 */
import { loadNative } from '../native/binding.js';
import { chooseDtype, type DtypeChoice, type DtypeDecision, MIN_CPU_BF16_SPEEDUP, needsMeasurement } from './choose.js';
import { cpuBf16Info } from './cpu.js';

/** The shape of a timed matrix product (m x k times k x n) and its repetitions. */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  /** Timed repetitions per dtype (the best counts), after one warm-up. */
  reps: number;
}

/**
 * A 1024-cube product, best of 3: 0.2-0.3 s on 2 loaded cores. bert-base's FFN product at batch 8 x 128,
 * (4096, 768) @ (768, 3072), took 1.5 s there (float32 0.31 s a rep) for a similar verdict (3.7x vs 5.2x on
 * an AMD EPYC with avx512_bf16), too slow to run before every command.
 */
export const BF16_PROBE_SHAPE: MatmulShape = { m: 1024, k: 1024, n: 1024, reps: 3 };

/** A timed float32 and bfloat16 matrix product on one device, and their ratio. */
export interface Bf16Speed extends MatmulShape {
  device: string;
  float32Ms: number;
  bfloat16Ms: number;
  /** float32Ms / bfloat16Ms: above 1, bf16 is faster. */
  speedup: number;
  float32Gflops: number;
  bfloat16Gflops: number;
}

/** Times one matmul in float32 and bfloat16 on `device` (fresh; see cpuBf16Speed for the cached one). */
export async function measureBf16Speed(device = 'cpu', shape: MatmulShape = BF16_PROBE_SHAPE): Promise<Bf16Speed> {
  const r = await loadNative().matmulSpeed(device, shape.m, shape.k, shape.n, shape.reps);
  const flop = 2 * r.m * r.k * r.n;
  return {
    ...r,
    speedup: r.float32Ms / r.bfloat16Ms,
    float32Gflops: flop / (r.float32Ms * 1e6),
    bfloat16Gflops: flop / (r.bfloat16Ms * 1e6),
  };
}

/** Measurements `auto` takes at most before it accepts a speed-up below MIN_CPU_BF16_SPEEDUP. */
export const MAX_MEASUREMENTS = 3;

/**
 * The best of up to `attempts` measurements, stopping at the first that reaches `threshold`. A busy CPU
 * mostly hides bf16's gain rather than inventing one: time slices lost to other processes add similar
 * delays to both products, pulling the ratio towards 1 (on the 2-core build VM at a load average of 12, a
 * CPU that measures 3-6x when less busy once measured 1.18x). So a low figure is measured again, and a high
 * one is kept at once.
 */
export async function bestSpeed<T extends { speedup: number }>(measure: () => Promise<T>, threshold: number, attempts: number): Promise<T> {
  let best = await measure();
  for (let i = 1; i < attempts && !(best.speedup >= threshold); i++) {
    const again = await measure();
    if (again.speedup > best.speedup || Number.isNaN(best.speedup)) best = again;
  }
  return best;
}

let cpuSpeed: Promise<Bf16Speed> | undefined;

/** The CPU's bf16 speed-up at BF16_PROBE_SHAPE for `auto`: measured once per process (bestSpeed). */
export function cpuBf16Speed(): Promise<Bf16Speed> {
  cpuSpeed ??= bestSpeed(() => measureBf16Speed('cpu'), MIN_CPU_BF16_SPEEDUP, MAX_MEASUREMENTS).catch((error: unknown) => {
    cpuSpeed = undefined;
    throw error;
  });
  return cpuSpeed;
}

/**
 * The compute dtype `choice` means on `device`: explicit dtypes as they are, 'auto' by chooseDtype with
 * this machine's facts (measuring the CPU only where the rule needs it).
 */
export async function resolveDtype(choice: DtypeChoice, device: string): Promise<DtypeDecision & { speed?: Bf16Speed }> {
  const { nativeBf16 } = cpuBf16Info();
  if (!needsMeasurement(choice, { device, nativeBf16 })) return chooseDtype(choice, { device, nativeBf16 });
  const speed = await cpuBf16Speed();
  return { ...chooseDtype(choice, { device, nativeBf16, speedup: speed.speedup }), speed };
}
