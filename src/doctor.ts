/**
 * `healbert doctor`: which libtorch healbert runs on, which devices it sees, and a small tensor op on each
 * device checked against a CPU float64 reference. The smoke test of the whole stack.
 */
import { arch, platform } from 'node:os';
import { loadNative, type NativeRuntimeInfo, type NativeSmokeResult } from './native/binding.js';
import { healbertVersion } from './version.js';

export interface DoctorReport {
  healbert: string;
  node: string;
  platform: string;
  runtime: NativeRuntimeInfo;
  /** One entry per device: the CPU, then every visible CUDA device. */
  checks: (NativeSmokeResult | { device: string; ok: false; error: { code: string; message: string } })[];
  ok: boolean;
}

export interface DoctorOptions {
  /** Side of the square matmul run on each device. */
  size?: number;
}

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
      const e = error as Error & { code?: string };
      checks.push({ device, ok: false, error: { code: e.code ?? 'ERR_INTERNAL', message: e.message } });
    }
  }
  return {
    healbert: healbertVersion,
    node: process.version,
    platform: `${platform()}-${arch()}`,
    runtime,
    checks,
    ok: checks.every((c) => c.ok),
  };
}
