#!/usr/bin/env python3
"""ELECTRA pre-training references, made by Hugging Face transformers itself (test/pretrain/
electra-transformers.test.ts calls this with the pip-torch lane's python).

Builds a tiny ElectraForPreTraining (the discriminator) and ElectraForMaskedLM (the generator, a quarter as wide)
whose embeddings are one module (ELECTRA's tied token and position embeddings), moves every weight away from its
initialisation, and writes:

  <out>/model/                    healbert's pre-training checkpoint of the pair: config.json (the
                                  discriminator's, with healbert_generator) and model.safetensors (the
                                  discriminator's keys, the generator's under generator/)
  <out>/reference.safetensors     the batch (input_ids with [MASK]s, attention_mask, token_type_ids, mlm_labels),
                                  the replacement of each masked position (samples), the generator's MLM loss, the
                                  discriminator's loss on the original tokens with the samples in place, and every
                                  parameter's gradient of generator + 50 x discriminator (grad.<healbert name>)

Dropout is off (eval mode), as in the other parity references.

  python test/python/electra_pretraining_reference.py --out /tmp/electra-ref
"""
import argparse
import json
import os

import torch
import transformers
from safetensors.torch import save_file

RTD_WEIGHT = 50.0
SIZES = dict(vocab_size=97, embedding_size=32, max_position_embeddings=40, type_vocab_size=2, hidden_act='gelu',
             layer_norm_eps=1e-12, initializer_range=0.02, pad_token_id=0, hidden_dropout_prob=0.1,
             attention_probs_dropout_prob=0.1)
DISCRIMINATOR = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
GENERATOR = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    a = p.parse_args()
    torch.manual_seed(11)
    disc = transformers.ElectraForPreTraining(transformers.ElectraConfig(**SIZES, **DISCRIMINATOR)).eval()
    gen = transformers.ElectraForMaskedLM(transformers.ElectraConfig(**SIZES, **GENERATOR)).eval()
    gen.electra.embeddings = disc.electra.embeddings  # one module: the shared tables and their LayerNorm
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight
    g = torch.Generator().manual_seed(12)
    with torch.no_grad():
        for model in (disc, gen):
            for name, param in model.named_parameters():
                if name.endswith('.bias'):
                    param.copy_(0.05 * torch.randn(param.shape, generator=g))
                elif 'LayerNorm.weight' in name:
                    param.add_(0.1 * torch.randn(param.shape, generator=g))

    # healbert's names: the discriminator's as they are, the generator's own tensors under generator/.
    shared = {id(t) for t in disc.parameters()}
    names = {}
    for n, t in disc.named_parameters():
        names[id(t)] = n
    for n, t in gen.named_parameters():
        if id(t) not in shared and n != 'generator_lm_head.weight':
            names[id(t)] = 'generator/' + n
    os.makedirs(os.path.join(a.out, 'model'), exist_ok=True)
    save_file({names[id(t)]: t.detach().contiguous() for m in (disc, gen) for t in m.parameters() if id(t) in names},
              os.path.join(a.out, 'model', 'model.safetensors'))
    config = dict(SIZES, **DISCRIMINATOR, model_type='electra', architectures=['ElectraForPreTraining'],
                  healbert_generator={k: GENERATOR[k] for k in ('hidden_size', 'num_attention_heads',
                                                                'intermediate_size', 'num_hidden_layers')},
                  healbert_rtd_weight=RTD_WEIGHT)
    with open(os.path.join(a.out, 'model', 'config.json'), 'w') as f:
        json.dump(config, f)

    # A batch of 2 x 12, the second row padded, four masked positions with fixed replacements: two of them
    # the original word (not replaced), two others.
    B, T = 2, 12
    original = torch.randint(5, 97, (B, T), generator=g)
    original[:, 0] = 2
    original[0, T - 1] = 3
    original[1, 8] = 3
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 9:] = 0
    original[1, 9:] = 0
    types = torch.zeros(B, T, dtype=torch.long)
    types[0, 6:] = 1
    masked = [(0, 2), (0, 5), (1, 3), (1, 7)]
    labels = torch.full((B, T), -100, dtype=torch.long)
    ids = original.clone()
    for r, c in masked:
        labels[r, c] = original[r, c]
        ids[r, c] = 4  # [MASK]
    samples = torch.tensor([int(original[0, 2]), 50, int(original[1, 3]), 77])
    corrupted = original.clone()
    for (r, c), s in zip(masked, samples):
        corrupted[r, c] = s
    replaced = (corrupted != original).long()

    gen_loss = gen(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels).loss
    disc_loss = disc(input_ids=corrupted, attention_mask=mask, token_type_ids=types, labels=replaced).loss
    (gen_loss + RTD_WEIGHT * disc_loss).backward()
    ref = {'input_ids': ids, 'attention_mask': mask, 'token_type_ids': types, 'mlm_labels': labels,
           'samples': samples, 'generator_loss': gen_loss.detach().reshape(1),
           'discriminator_loss': disc_loss.detach().reshape(1)}
    for m in (disc, gen):
        for t in m.parameters():
            if id(t) in names and t.grad is not None:
                ref['grad.' + names[id(t)]] = t.grad.detach().clone()
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(a.out, 'reference.safetensors'),
              metadata={'transformers': transformers.__version__, 'torch': torch.__version__})
    print(json.dumps({'generator_loss': gen_loss.item(), 'discriminator_loss': disc_loss.item()}))


if __name__ == '__main__':
    main()
