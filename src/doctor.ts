/**
 * `healbert doctor`: which libtorch healbert runs on, which devices it sees, and a small tensor op on each
 * device checked against a CPU float64 reference. The smoke test of the whole stack. It also says whether
 * the CPU computes bfloat16 natively, how much faster a bf16 matmul measured, and so what `--dtype auto`
 * picks on each device.
 */
import { arch, platform } from 'node:os';
import { chooseDtype, type DtypeDecision } from './dtype/choose.js';
import { type CpuBf16Info, cpuBf16Info } from './dtype/cpu.js';
import { BF16_PROBE_SHAPE, type Bf16Speed, type MatmulShape, measureBf16Speed } from './dtype/measure.js';
import { loadNative, type NativeRuntimeInfo, type NativeSmokeResult } from './native/binding.js';
import { healbertVersion } from './version.js';

/**
 * What `healbert doctor` reports: versions, the libtorch in use, devices, a checked matmul on each, the CPU's bf16 and
 * what `--dtype auto` picks.
 */
export interface DoctorReport {
  healbert: string;
  node: string;
  platform: string;
  runtime: NativeRuntimeInfo;
  /** One entry per device: the CPU, then every visible CUDA device. */
  checks: (NativeSmokeResult | { device: string; ok: false; error: ErrorInfo })[];
  /** The CPU's model and bf16 flags, its measured bf16 matmul speed, and what `--dtype auto` picks. */
  cpu: CpuBf16Info & { bf16Matmul: Bf16Speed | { error: ErrorInfo } };
  /** `--dtype auto` on each device of `checks`. */
  dtypeAuto: Record<string, DtypeDecision>;
  ok: boolean;
}

/** An error as `doctor` reports it: its code and message. */
export interface ErrorInfo {
  code: string;
  message: string;
}

const errorInfo = (error: unknown): ErrorInfo => {
  const e = error as Error & { code?: string };
  return { code: e.code ?? 'ERR_INTERNAL', message: e.message };
};

/** Options of {@link doctor}: the sizes of the matrix products it runs. */
export interface DoctorOptions {
  /** Side of the square matmul run on each device. */
  size?: number;
  /** The bf16 vs float32 matmul timed on the CPU (default BF16_PROBE_SHAPE, the one `--dtype auto` times). */
  matmul?: MatmulShape;
}

/**
 * Checks the installed stack: loads the addon, reports its libtorch and devices, runs a checked matmul on each device,
 * and measures the CPU's bf16 speed-up.
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const size = options.size ?? 256;
  const native = loadNative();
  const runtime = native.runtimeInfo();
  const devices = ['cpu', ...runtime.cudaDevices.map((d) => `cuda:${d.index}`)];
  const checks: DoctorReport['checks'] = [];
  for (const device of devices) {
    try {
      checks.push(await native.smokeTest(device, size));
    } catch (error) {
      checks.push({ device, ok: false, error: errorInfo(error) });
    }
  }
  // Measured at the shape asked for, not through auto's per-process cache (tests ask for a small one).
  const bf16Matmul = await measureBf16Speed('cpu', options.matmul ?? BF16_PROBE_SHAPE).catch((error: unknown) => ({
    error: errorInfo(error),
  }));
  const cpu = { ...cpuBf16Info(), bf16Matmul };
  const speedup = 'speedup' in bf16Matmul ? bf16Matmul.speedup : undefined;
  const dtypeAuto = Object.fromEntries(
    devices.map((device) => [
      device,
      chooseDtype('auto', { device, nativeBf16: cpu.nativeBf16, ...(speedup !== undefined ? { speedup } : {}) }),
    ]),
  );
  return {
    healbert: healbertVersion,
    node: process.version,
    platform: `${platform()}-${arch()}`,
    runtime,
    checks,
    cpu,
    dtypeAuto,
    ok: checks.every((c) => c.ok) && !('error' in bf16Matmul),
  };
}
