/** `--measure cka,weights,mlm` with `--cka-examples` and `--cka-estimator`, shared by run and demo (src/measure/spec.ts). */
import { type MeasureSpec, measureFromFlags } from '../measure/spec.js';
import { type CommandContext, numberOption, type OptionSpec, stringOption } from './command.js';

export function measureOptionSpecs(fallback: string): Record<string, OptionSpec> {
  return {
    measure: {
      type: 'string',
      valueName: 'list',
      description:
        'what each cell measures beyond its scores: cka (representations by layer), weights, mlm (knowledge beyond the task), or none',
      defaultText: fallback,
    },
    'cka-examples': { type: 'string', valueName: 'n', description: 'evaluation examples CKA compares', defaultText: '512' },
    'cka-estimator': { type: 'string', valueName: 'name', description: 'linear, or debiased (unbiased HSIC)', defaultText: 'linear' },
  };
}

/** The spec's `measure` from the flags ({} when nothing is measured); `fallback` when --measure is not given. */
export function measureOption(values: CommandContext['values'], fallback: string | undefined): { measure?: MeasureSpec } {
  const examples = numberOption(values, 'cka-examples', { min: 4, integer: true });
  const estimator = stringOption(values, 'cka-estimator');
  const measure = measureFromFlags(stringOption(values, 'measure') ?? fallback, {
    ...(examples !== undefined ? { examples } : {}),
    ...(estimator !== undefined ? { estimator } : {}),
  });
  return measure ? { measure } : {};
}
