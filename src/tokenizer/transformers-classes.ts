/**
 * transformers 5's rule for Unigram folders: AutoTokenizer picks a class (tokenizer_config.json's
 * `tokenizer_class`, else config.json's, else the class registered for config.json's `model_type`), and a
 * class with its own pipeline (XLMRobertaTokenizer, AlbertTokenizer, DebertaV2Tokenizer) builds the
 * normalizer, pre-tokenizer and unknown id itself from tokenizer_config.json, taking only the vocabulary,
 * the post-processor (ALBERT) and the charsmap (XLM-R, ALBERT) from tokenizer.json. The generic classes
 * (TokenizersBackend, PreTrainedTokenizerFast) read the tokenizer.json as it is. Read from
 * transformers 5.17's tokenization_{xlm_roberta,albert,deberta_v2}.py and tokenization_utils_tokenizers.py.
 */
import type { Json } from './load-common.js';
import { bool } from './load-common.js';
import type { NormalizerStep } from './normalizers.js';
import type { PreTokenizerStep } from './pre-tokenizers.js';

export type PipelineClass = 'XLMRobertaTokenizer' | 'AlbertTokenizer' | 'DebertaV2Tokenizer';
export const PIPELINE_CLASSES: readonly PipelineClass[] = ['XLMRobertaTokenizer', 'AlbertTokenizer', 'DebertaV2Tokenizer'];
const GENERIC = new Set(['TokenizersBackend', 'PreTrainedTokenizerFast', 'PythonBackend', 'FNetTokenizer']);

/** config.json model types and the class transformers 5.17 registers for them (those with a Unigram class). */
const BY_MODEL_TYPE: Record<string, string> = {
  'xlm-roberta': 'XLMRobertaTokenizer',
  xmod: 'XLMRobertaTokenizer',
  trocr: 'XLMRobertaTokenizer',
  metaclip_2: 'XLMRobertaTokenizer',
  jina_embeddings_v3: 'XLMRobertaTokenizer',
  albert: 'AlbertTokenizer',
  yoso: 'AlbertTokenizer',
  'deberta-v2': 'DebertaV2Tokenizer',
  fnet: 'FNetTokenizer',
  t5: 'T5Tokenizer',
  mt5: 'T5Tokenizer',
  switch_transformers: 'T5Tokenizer',
  musicgen: 'T5Tokenizer',
  musicgen_melody: 'T5Tokenizer',
  xlnet: 'XLNetTokenizer',
  big_bird: 'BigBirdTokenizer',
  mbart: 'MBartTokenizer',
  mbart50: 'MBart50Tokenizer',
  pegasus: 'PegasusTokenizer',
  rembert: 'RemBertTokenizer',
  xglm: 'XGLMTokenizer',
  udop: 'UdopTokenizer',
  layoutxlm: 'LayoutXLMTokenizer',
  lasr_ctc: 'LasrTokenizer',
  lasr_encoder: 'LasrTokenizer',
  videoprism: 'VideoPrismTokenizer',
};

export type ClassChoice =
  | { kind: 'pipeline'; name: PipelineClass; from: string }
  | { kind: 'generic'; name: string | undefined }
  | { kind: 'unknown'; name: string; from: string };

/** The class AutoTokenizer instantiates for the folder, and which file said so. */
export function chooseClass(tokenizerConfig: Json, modelConfig: Json | undefined): ClassChoice {
  const own = tokenizerConfig.tokenizer_class;
  const fromModel = modelConfig?.tokenizer_class;
  const modelType = modelConfig?.model_type;
  let name: string | undefined;
  let from = '';
  if (typeof own === 'string') [name, from] = [own, 'tokenizer_config.json tokenizer_class'];
  else if (typeof fromModel === 'string') [name, from] = [fromModel, 'config.json tokenizer_class'];
  else if (typeof modelType === 'string' && BY_MODEL_TYPE[modelType])
    [name, from] = [BY_MODEL_TYPE[modelType], `config.json model_type '${modelType}'`];
  if (name === undefined) return { kind: 'generic', name };
  const base = name.endsWith('Fast') && name !== 'PreTrainedTokenizerFast' ? name.slice(0, -4) : name;
  if ((PIPELINE_CLASSES as readonly string[]).includes(base)) return { kind: 'pipeline', name: base as PipelineClass, from };
  if (GENERIC.has(base)) return { kind: 'generic', name: base };
  return { kind: 'unknown', name: base, from };
}

/** Special tokens by attribute, as each class defaults them (tokenizer_config.json overrides). */
export const CLASS_SPECIAL_TOKENS: Record<PipelineClass, Record<string, string>> = {
  XLMRobertaTokenizer: {
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    sep_token: '</s>',
    pad_token: '<pad>',
    cls_token: '<s>',
    mask_token: '<mask>',
  },
  AlbertTokenizer: {
    bos_token: '[CLS]',
    eos_token: '[SEP]',
    unk_token: '<unk>',
    sep_token: '[SEP]',
    pad_token: '<pad>',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  },
  DebertaV2Tokenizer: {
    bos_token: '[CLS]',
    eos_token: '[SEP]',
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  },
};

export interface ClassPipeline {
  normalizers: NormalizerStep[];
  preTokenizers: PreTokenizerStep[];
}

/**
 * The normalizer and pre-tokenizers a class builds from tokenizer_config.json (`config`), given the
 * charsmap that tokenizer.json carries, if any.
 */
export function classPipeline(name: PipelineClass, config: Json, charsmap: string | undefined): ClassPipeline {
  const addPrefixSpace = bool(config.add_prefix_space, true);
  const precompiled: NormalizerStep[] = charsmap === undefined ? [] : [{ type: 'Precompiled', charsmap }];
  const metaspace = (prependScheme: 'always' | 'first' | 'never'): PreTokenizerStep => ({
    type: 'Metaspace',
    replacement: '\u2581',
    prependScheme,
    split: true,
  });
  switch (name) {
    case 'XLMRobertaTokenizer':
      return { normalizers: precompiled, preTokenizers: [{ type: 'WhitespaceSplit' }, metaspace(addPrefixSpace ? 'always' : 'never')] };
    case 'AlbertTokenizer': {
      const normalizers: NormalizerStep[] = [
        { type: 'Replace', pattern: '``', regex: false, content: '"' },
        { type: 'Replace', pattern: "''", regex: false, content: '"' },
      ];
      if (!bool(config.keep_accents, false)) normalizers.push({ type: 'NFKD' }, { type: 'StripAccents' });
      if (bool(config.do_lower_case, true)) normalizers.push({ type: 'Lowercase' });
      return {
        normalizers: [...normalizers, ...precompiled],
        preTokenizers: [{ type: 'WhitespaceSplit' }, metaspace(addPrefixSpace ? 'always' : 'never')],
      };
    }
    case 'DebertaV2Tokenizer': {
      // No charsmap here: DebertaV2Tokenizer leaves it out even where tokenizer.json has one.
      const normalizers: NormalizerStep[] = bool(config.do_lower_case, false) ? [{ type: 'Lowercase' }] : [];
      normalizers.push(
        { type: 'Replace', pattern: '\\s{2,}|[\\n\\r\\t]', regex: true, content: ' ' },
        { type: 'NFC' },
        { type: 'Strip', left: false, right: true },
      );
      const preTokenizers: PreTokenizerStep[] = bool(config.split_by_punct, false) ? [{ type: 'Punctuation', behavior: 'isolated' }] : [];
      preTokenizers.push(metaspace(addPrefixSpace ? 'always' : 'first'));
      return { normalizers, preTokenizers };
    }
  }
}

/**
 * The unknown id a class gives its Unigram model: XLM-R 3 and ALBERT 1 always; DeBERTa the first piece
 * that is its unknown token with score 0, else tokenizer_config.json's `unk_id`, else 1.
 */
export function classUnkId(name: PipelineClass, pieces: readonly (readonly [string, number])[], unkToken: string, config: Json): number {
  if (name === 'XLMRobertaTokenizer') return 3;
  if (name === 'AlbertTokenizer') return 1;
  const index = pieces.findIndex(([piece, score]) => piece === unkToken && score === 0);
  if (index >= 0) return index;
  return typeof config.unk_id === 'number' ? config.unk_id : 1;
}

/** The charsmap that transformers passes on from tokenizer.json: a Precompiled normalizer, alone or in a Sequence. */
export function tokenizerJsonCharsmap(normalizer: unknown): string | undefined {
  if (typeof normalizer !== 'object' || normalizer === null) return undefined;
  const n = normalizer as Json;
  const list = n.type === 'Sequence' && Array.isArray(n.normalizers) ? (n.normalizers as Json[]) : [n];
  const found = list.find((x) => x?.type === 'Precompiled' && typeof x.precompiled_charsmap === 'string');
  return found?.precompiled_charsmap as string | undefined;
}
