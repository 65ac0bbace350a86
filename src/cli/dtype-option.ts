/** `--dtype float32|bfloat16|auto`, shared by every command that runs a model. */
import { DTYPE_CHOICES, type DtypeChoice } from '../dtype/choose.js';
import { resolveDtype } from '../dtype/measure.js';
import type { ComputeDtype } from '../model/model.js';
import { type CliIO, type CommandContext, type OptionSpec, stringOption, UsageError } from './command.js';

export function dtypeOptionSpec(fallback: DtypeChoice): OptionSpec {
  return {
    type: 'string',
    valueName: 'dtype',
    description: 'compute: float32, bfloat16, or auto (bfloat16 on CUDA and on CPUs where doctor measures it pays)',
    defaultText: fallback,
  };
}

export function dtypeOption(values: CommandContext['values'], fallback: DtypeChoice): DtypeChoice {
  const value = stringOption(values, 'dtype') ?? fallback;
  if (!(DTYPE_CHOICES as readonly string[]).includes(value))
    throw new UsageError(`--dtype must be ${DTYPE_CHOICES.join(', ')}, got '${value}'`);
  return value as DtypeChoice;
}

/** --dtype resolved for `device`; an `auto` choice is reported on stderr with its reason. */
export async function resolvedDtypeOption(
  values: CommandContext['values'],
  device: string,
  fallback: DtypeChoice,
  io: CliIO,
): Promise<ComputeDtype> {
  const choice = dtypeOption(values, fallback);
  const decision = await resolveDtype(choice, device);
  if (choice === 'auto') io.stderr.write(`dtype auto on ${device}: ${decision.dtype} (${decision.reason})\n`);
  return decision.dtype;
}
