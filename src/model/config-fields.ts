/** Typed access to a config.json's fields, with errors that name the file and the key. */
import { HealbertError } from '../errors.js';

/** A config.json as read: its fields unchecked (ConfigFields reads them with checks). */
export type RawConfig = Record<string, unknown>;

/** The activations the engine implements (config.json's hidden_act names map onto them). */
export type ActivationName = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

const ACTIVATIONS: Record<string, ActivationName> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

/** A config.json's fields (`raw`, read from `source`), each read with its type checked and the key in errors. */
export class ConfigFields {
  constructor(
    readonly raw: RawConfig,
    readonly source: string,
  ) {}

  private fail(key: string, expected: string, value: unknown): never {
    throw new HealbertError('ERR_CHECKPOINT', `${this.source}: "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
  }

  int(key: string, fallback?: number, min = 1): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) this.fail(key, `an integer >= ${min}`, value);
    return value;
  }

  probability(key: string, fallback: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) this.fail(key, 'a number in [0, 1)', value);
    return value;
  }

  positive(key: string, fallback: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) this.fail(key, 'a positive number', value);
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'boolean') this.fail(key, 'true or false', value);
    return value;
  }

  string(key: string, fallback?: string): string {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'string') this.fail(key, 'a string', value);
    return value;
  }

  /** Fails naming the key, as the readers do (for values a family checks itself). */
  invalid(key: string, expected: string, value: unknown): never {
    this.fail(key, expected, value);
  }

  /**
   * Refuses an option the engine does not implement: ERR_CONFIG naming the key, its value and what healbert
   * runs (`supported`), when the value (absent: `fallback`) is not one of them.
   */
  only(key: string, supported: unknown[], fallback: unknown, why: string): void {
    const value = this.raw[key] ?? fallback;
    if (supported.some((s) => s === value)) return;
    throw new HealbertError(
      'ERR_CONFIG',
      `${this.source}: "${key}": ${JSON.stringify(value)} is not supported (healbert runs ${supported.map((s) => JSON.stringify(s)).join(' or ')}): ${why}`,
    );
  }
}

/** An activation key of config.json (hidden_act, activation), as the engine names it. */
export function activationOf(f: ConfigFields, key: string, fallback: string): ActivationName {
  const name = f.string(key, fallback);
  const act = ACTIVATIONS[name];
  if (!act)
    throw new HealbertError(
      'ERR_CHECKPOINT',
      `${f.source}: activation "${name}" is not supported (${Object.keys(ACTIVATIONS).join(', ')})`,
    );
  return act;
}
