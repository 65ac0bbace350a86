/**
 * `dtype: "auto"`: which compute dtype a model runs in. One pure rule, so that every command, the sweep
 * and the tests decide alike: bfloat16 on CUDA; on the CPU bfloat16 only when the CPU computes bf16
 * natively AND a measured bf16 matrix product is at least MIN_CPU_BF16_SPEEDUP times faster than float32
 * (oneDNN emulates bf16 on CPUs without it, and that is slower than float32); float32 everywhere else.
 */
import type { ComputeDtype } from '../model/model.js';

/** A compute dtype as a user gives it: float32, bfloat16, or `auto` (chosen by {@link chooseDtype}). */
export type DtypeChoice = ComputeDtype | 'auto';

export const DTYPE_CHOICES: readonly DtypeChoice[] = ['float32', 'bfloat16', 'auto'];

/**
 * The bf16 matmul speed-up below which `auto` keeps float32 on the CPU: a bf16 step also pays casts and
 * float32 element-wise work that a matmul alone does not show, so a small matmul gain does not carry over.
 */
export const MIN_CPU_BF16_SPEEDUP = 1.5;

/** What {@link chooseDtype} decides from: the device, whether the CPU has native bf16, and the measured speed-up. */
export interface DtypeFacts {
  /** 'cpu', 'cuda', 'cuda:1'. */
  device: string;
  /** The CPU has native bf16 (amx_bf16, avx512_bf16, Arm bf16); null: unknown (flags unreadable). */
  nativeBf16: boolean | null;
  /** float32 time / bfloat16 time of one measured CPU matmul; undefined when not measured. */
  speedup?: number;
}

/** The dtype `auto` resolved to, and why. */
export interface DtypeDecision {
  dtype: ComputeDtype;
  /** Why, in a few words (printed by the CLI and doctor). */
  reason: string;
}

/** Whether a CPU decision needs the measured speed-up (auto on a CPU that has native bf16). */
export function needsMeasurement(choice: DtypeChoice, facts: Omit<DtypeFacts, 'speedup'>): boolean {
  return choice === 'auto' && !facts.device.startsWith('cuda') && facts.nativeBf16 === true;
}

/** Pure: the dtype for `choice` on a device with these facts. */
export function chooseDtype(choice: DtypeChoice, facts: DtypeFacts): DtypeDecision {
  if (choice !== 'auto') return { dtype: choice, reason: 'asked for' };
  if (facts.device.startsWith('cuda')) return { dtype: 'bfloat16', reason: 'CUDA' };
  if (facts.nativeBf16 === null) return { dtype: 'float32', reason: 'unknown whether the CPU has native bf16' };
  if (!facts.nativeBf16) return { dtype: 'float32', reason: 'the CPU has no native bf16' };
  if (facts.speedup === undefined || !Number.isFinite(facts.speedup))
    return { dtype: 'float32', reason: 'the bf16 speed-up was not measured' };
  const measured = `bf16 matmul measured ${facts.speedup.toFixed(2)}x float32`;
  if (facts.speedup < MIN_CPU_BF16_SPEEDUP) return { dtype: 'float32', reason: `${measured}, below ${MIN_CPU_BF16_SPEEDUP}x` };
  return { dtype: 'bfloat16', reason: `native bf16 CPU, ${measured}` };
}
