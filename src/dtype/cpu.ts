/**
 * What the CPU says about bfloat16: its model name and the feature flags that mean native bf16 arithmetic,
 * read from /proc/cpuinfo (Linux only; elsewhere the answer is "unknown", never a guess).
 */
import { readFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';

/**
 * Flags that mean the CPU computes bfloat16 products natively, which libtorch's oneDNN kernels use:
 * amx_bf16 (Intel AMX tiles, Sapphire Rapids and later), avx512_bf16 (Intel Cooper Lake and later, AMD Zen 4
 * and later), bf16 (Arm's FEAT_BF16 in the "Features" line of arm64 kernels).
 */
export const NATIVE_BF16_FLAGS = ['amx_bf16', 'avx512_bf16', 'bf16'] as const;

/** The CPU's model name and whether its flags show native bf16 (null when they cannot be read). */
export interface CpuBf16Info {
  /** The CPU's model name ("AMD EPYC 9B45"); null when the system does not say. */
  model: string | null;
  /** true/false from the CPU's flags; null when they cannot be read (not Linux). */
  nativeBf16: boolean | null;
  /** Which of NATIVE_BF16_FLAGS the CPU has. */
  bf16Flags: string[];
}

/** Pure: the model name and bf16 flags of a /proc/cpuinfo text (x86 "flags", arm64 "Features"). */
export function parseCpuInfo(text: string): CpuBf16Info {
  let model: string | null = null;
  let flags: Set<string> | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (model === null && key === 'model name' && value) model = value;
    // Every core lists the same flags on the machines healbert targets; the first list is the CPU's.
    if (flags === undefined && (key === 'flags' || key === 'Features')) flags = new Set(value.split(/\s+/));
  }
  if (flags === undefined) return { model, nativeBf16: null, bf16Flags: [] };
  const bf16Flags = NATIVE_BF16_FLAGS.filter((f) => flags.has(f));
  return { model, nativeBf16: bf16Flags.length > 0, bf16Flags };
}

let cached: CpuBf16Info | undefined;

/** This machine's CPU (read once per process). */
export function cpuBf16Info(): CpuBf16Info {
  if (cached) return cached;
  const fallbackModel = cpus()[0]?.model.trim() || null;
  let info: CpuBf16Info = { model: fallbackModel, nativeBf16: null, bf16Flags: [] };
  if (platform() === 'linux') {
    try {
      const parsed = parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
      info = { ...parsed, model: parsed.model ?? fallbackModel };
    } catch {
      // /proc not mounted (some containers): the flags are unknown, as off Linux.
    }
  }
  cached = info;
  return info;
}
