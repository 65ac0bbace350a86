/**
 * config.json of a model that pre-training starts from scratch: BERT's settings at the chosen sizes, which an
 * ELECTRA pre-training config (src/pretrain/electra.ts) extends with its generator.
 */
import type { RawConfig } from '../model/config.js';

/** The sizes `healbert pretrain` takes for a new model (--layers, --hidden, --heads). */
export interface PretrainArchitecture {
  layers: number;
  hidden: number;
  heads: number;
  intermediate?: number;
  maxPositions?: number;
}

/** config.json of a new BERT for masked-language modelling (BertForMaskedLM), BERT's defaults elsewhere. */
export function bertConfig(vocabSize: number, a: PretrainArchitecture, padId: number): RawConfig {
  return {
    model_type: 'bert',
    architectures: ['BertForMaskedLM'],
    vocab_size: vocabSize,
    hidden_size: a.hidden,
    num_hidden_layers: a.layers,
    num_attention_heads: a.heads,
    intermediate_size: a.intermediate ?? 4 * a.hidden,
    max_position_embeddings: a.maxPositions ?? 512,
    type_vocab_size: 2,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    layer_norm_eps: 1e-12,
    initializer_range: 0.02,
    pad_token_id: padId,
    position_embedding_type: 'absolute',
  };
}
