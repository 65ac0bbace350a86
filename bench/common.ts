/** Shared pieces of the benchmarks: timing, provenance, and where results go. */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative, packageRoot } from '../src/native/binding.js';

export function provenance(device: string): Record<string, unknown> {
  const info = loadNative().runtimeInfo();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: packageRoot, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const cuda = info.cudaDevices.find((d) => device.startsWith('cuda') && `cuda:${d.index}` === (device === 'cuda' ? 'cuda:0' : device));
  return {
    commit,
    date: new Date().toISOString(),
    device,
    deviceName: cuda?.name ?? `CPU (${info.numThreads} threads)`,
    libtorch: info.torchVersion,
    node: process.version,
  };
}

/** Milliseconds of `fn` per call: `warmup` untimed calls, then the median and mean of `repeat` timed ones. */
export async function time(
  fn: () => Promise<unknown>,
  warmup: number,
  repeat: number,
): Promise<{ medianMs: number; meanMs: number; runs: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return {
    medianMs: samples[Math.floor(samples.length / 2)] as number,
    meanMs: samples.reduce((a, b) => a + b, 0) / samples.length,
    runs: repeat,
  };
}

export function writeResult(name: string, result: unknown): string {
  const dir = process.env.OUT ?? join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
