#!/usr/bin/env python3
"""bfloat16 mixed-precision references, made on the fly by Hugging Face transformers under
torch.autocast('cpu', torch.bfloat16) (not committed: they depend on the CPU's bf16 kernels). For every tiny
parity model (test/fixtures/models/tiny-*, the weights test/fixtures/parity/generate.py wrote) this loads
the committed weights into transformers' own class and writes, for the parity batch (generate.py's
batch_for), what healbert's bf16 mode must reproduce:

  logits         eval-mode logits under autocast (float32)
  loss           the loss with labels under autocast, dropout off
  grad.<name>    every parameter's gradient (float32 master weights; autocast's casts are in the graph)
  step_losses    the losses of 3 steps of transformers' own training arithmetic (generate.py's
                 train_like_trainer: Trainer's decay groups, linear warm-up schedule, clipping), each
                 forward under autocast
  after.<name>   every parameter after those steps (float32 master weights)

plus the batch, in <out>/<name>.bf16.safetensors with the recipe and versions in its metadata; one JSON
line per model on stdout. test/model/bf16-transformers.test.ts compares healbert's bfloat16 mode with them.

  python test/python/bf16_reference.py --out /tmp/bf16-refs [--models tiny-bert,tiny-roberta]
"""
import argparse
import json
import os
import sys

import torch
import transformers
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'fixtures', 'parity'))
from generate import (ADAMW, FIXTURES, MAX_GRAD_NORM, MODELS, SCHEDULE, STEPS, expected_outputs, layout,  # noqa: E402
                      transformers_model, write_safetensors)


def run(name, c, out):
    weights = load_file(os.path.join(MODELS, name, 'model.safetensors'))
    model = transformers_model(c, weights)
    named = [(n, dict(model.named_parameters())[n]) for n, _ in layout(c)]
    autocast = lambda: torch.autocast('cpu', dtype=torch.bfloat16)

    def forward(ids, mask, types, labels=None):
        kw = dict(input_ids=ids, attention_mask=mask, labels=labels)
        if c['model_type'] == 'bert':
            kw['token_type_ids'] = types
        with autocast():
            return model(**kw)

    expected = expected_outputs(c, model, named, forward)  # dropout off, as in the float32 fixtures
    meta = {'reference': 'transformers', 'autocast': 'cpu bfloat16', 'transformers': transformers.__version__,
            'torch': torch.__version__, 'model': name, 'adamw': dict(ADAMW, betas=list(ADAMW['betas'])),
            'schedule': SCHEDULE, 'max_grad_norm': MAX_GRAD_NORM, 'steps': STEPS}
    path = os.path.join(out, f'{name}.bf16.safetensors')
    write_safetensors(path, expected, {k: json.dumps(v) for k, v in meta.items()})
    print(json.dumps({'model': name, 'reference': path}), flush=True)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--models', default=','.join(FIXTURES))
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for name in a.models.split(','):
        run(name, FIXTURES[name], a.out)
