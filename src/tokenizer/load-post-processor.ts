/** Post-processors of tokenizer.json (TemplateProcessing, BertProcessing, RobertaProcessing) as templates. */
import { HealbertError } from '../errors.js';
import type { Template, TemplatePiece } from './post-process.js';

type Json = Record<string, unknown>;

export function bertTemplate(cls: number, sep: number): Template {
  return {
    single: [
      { special: [cls], typeId: 0 },
      { sequence: 'A', typeId: 0 },
      { special: [sep], typeId: 0 },
    ],
    pair: [
      { special: [cls], typeId: 0 },
      { sequence: 'A', typeId: 0 },
      { special: [sep], typeId: 0 },
      { sequence: 'B', typeId: 1 },
      { special: [sep], typeId: 1 },
    ],
  };
}

/** <s> A </s> and <s> A </s> </s> B </s>; RoBERTa has no segments, so every type id is 0. */
export function robertaTemplate(cls: number, sep: number): Template {
  return {
    single: [
      { special: [cls], typeId: 0 },
      { sequence: 'A', typeId: 0 },
      { special: [sep], typeId: 0 },
    ],
    pair: [
      { special: [cls], typeId: 0 },
      { sequence: 'A', typeId: 0 },
      { special: [sep, sep], typeId: 0 },
      { sequence: 'B', typeId: 0 },
      { special: [sep], typeId: 0 },
    ],
  };
}

function tokenId(value: unknown, path: string): number {
  if (Array.isArray(value) && typeof value[1] === 'number') return value[1];
  throw new HealbertError('ERR_DATA', `${path}: malformed special token ${JSON.stringify(value)} in the post-processor`);
}

function templatePieces(items: unknown, specials: Json, path: string): TemplatePiece[] {
  if (!Array.isArray(items)) throw new HealbertError('ERR_DATA', `${path}: TemplateProcessing without a template`);
  return items.map((item: Json): TemplatePiece => {
    if (item.Sequence) {
      const seq = item.Sequence as Json;
      return { sequence: seq.id === 'B' ? 'B' : 'A', typeId: Number(seq.type_id ?? 0) };
    }
    const special = item.SpecialToken as Json | undefined;
    const entry = special ? (specials[String(special.id)] as Json | undefined) : undefined;
    if (!special || !entry || !Array.isArray(entry.ids)) {
      throw new HealbertError('ERR_DATA', `${path}: TemplateProcessing item ${JSON.stringify(item)} has no known special token`);
    }
    return { special: (entry.ids as unknown[]).map(Number), typeId: Number(special.type_id ?? 0) };
  });
}

export function parsePostProcessor(json: Json | null | undefined, path: string): Template {
  if (!json)
    return {
      single: [{ sequence: 'A', typeId: 0 }],
      pair: [
        { sequence: 'A', typeId: 0 },
        { sequence: 'B', typeId: 1 },
      ],
    };
  switch (json.type) {
    case 'TemplateProcessing': {
      const specials = (json.special_tokens ?? {}) as Json;
      return { single: templatePieces(json.single, specials, path), pair: templatePieces(json.pair, specials, path) };
    }
    case 'BertProcessing':
      return bertTemplate(tokenId(json.cls, path), tokenId(json.sep, path));
    case 'RobertaProcessing':
      return robertaTemplate(tokenId(json.cls, path), tokenId(json.sep, path));
    default:
      throw new HealbertError('ERR_DATA', `${path}: unsupported post-processor '${String(json.type)}'`);
  }
}
