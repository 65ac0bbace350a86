/** The families healbert runs, by config.json model_type. */
import { HealbertError } from '../../errors.js';
import { albert } from './albert.js';
import { bert } from './bert.js';
import { debertaV2 } from './deberta-v2.js';
import { distilbert } from './distilbert.js';
import { electra } from './electra.js';
import { modernbert } from './modernbert.js';
import { roberta, xlmRoberta } from './roberta.js';
import type { Family, FamilyName } from './types.js';

export const FAMILIES: readonly Family[] = [bert, roberta, xlmRoberta, distilbert, electra, albert, debertaV2, modernbert];

const BY_NAME = new Map(FAMILIES.map((f) => [f.name, f]));
const BY_MODEL_TYPE = new Map(FAMILIES.flatMap((f) => f.modelTypes.map((t) => [t, f] as const)));

export function family(name: FamilyName): Family {
  const f = BY_NAME.get(name);
  if (!f) throw new HealbertError('ERR_INTERNAL', `no family "${name}"`);
  return f;
}

/** The family of a config.json; ERR_CONFIG naming model_type and listing the supported ones. */
export function familyOfModelType(type: unknown, source: string): Family {
  const f = typeof type === 'string' ? BY_MODEL_TYPE.get(type) : undefined;
  if (f) return f;
  throw new HealbertError(
    'ERR_CONFIG',
    `${source}: model_type ${JSON.stringify(type)} is not supported; healbert runs ${[...BY_MODEL_TYPE.keys()].join(', ')}`,
  );
}

export type { Family, FamilyName, ModelStructure } from './types.js';
