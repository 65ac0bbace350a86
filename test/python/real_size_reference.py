#!/usr/bin/env python3
"""Real-size parity references, made on the fly by Hugging Face transformers (not committed: about 1 GB a
model). For each case (architecture at its published size, random weights, and a head) this builds the
model with transformers (its own random initialisation, seeded), moves what that leaves at a constant
(biases, LayerNorm weights, the embeddings' zero padding rows) away from it, saves it as a Hugging Face folder
(save_pretrained, safetensors) and writes what healbert must reproduce for one small batch at real shapes:

  logits         eval-mode logits (classification and regression; an MLM case stores the logits of its
                 labelled positions only: the full (B, T, vocab) tensor is 6 MB of mostly unused rows)
  loss           the loss with labels, dropout off
  grad.<name>    every parameter's gradient (the tied MLM decoder's gradient is in the word embeddings')
  step_losses    the losses of 3 steps of transformers' own training arithmetic: torch.optim.AdamW with the
                 weight-decay groups Trainer makes, get_linear_schedule_with_warmup, clip_grad_norm_ at 1
  after.<name>   every parameter after those 3 steps

plus the batch (input_ids, attention_mask, token_type_ids, labels). The recipe is test/fixtures/parity/
generate.py's, at real size. Files: <out>/<case>/ (the model folder) and <out>/<case>.reference.safetensors;
one JSON line per case on stdout, as soon as the case is written (test/model/real-size-transformers.test.ts
checks it while the next is made). Dropout is off throughout (eval()), as in the tiny fixtures.

  python test/python/real_size_reference.py --out /tmp/real-size [--cases bert-base:classification,...]
"""
import argparse
import json
import os
import sys
import time

import torch
import transformers
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, '..', 'fixtures', 'configs')

# The tiny fixtures' recipe and training loop (test/fixtures/parity/generate.py), shared.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'parity'))
from generate import ADAMW, MAX_GRAD_NORM, SCHEDULE, STEPS, train_like_trainer  # noqa: E402

ARCHITECTURES = {
    # name: (config file, config class, sequence-classification class, special ids (first, last, mask))
    'bert-base': ('bert-base-uncased', transformers.BertConfig, transformers.BertForSequenceClassification, (101, 102, 103)),
    'roberta-base': ('roberta-base', transformers.RobertaConfig, transformers.RobertaForSequenceClassification, (0, 2, 50264)),
    'distilbert-base': ('distilbert-base-uncased', transformers.DistilBertConfig,
                        transformers.DistilBertForSequenceClassification, (101, 102, 103)),
    # The families beyond BERT, RoBERTa and DistilBERT, at tiny sizes (test/model/families-transformers.test.ts):
    # factorised embeddings with a projection, ALBERT's shared layer groups, XLM-R's RoBERTa engine.
    'electra-tiny': ('electra-tiny', transformers.ElectraConfig, transformers.ElectraForSequenceClassification, (2, 3, 4)),
    'electra-tiny-square': ('electra-tiny-square', transformers.ElectraConfig,
                            transformers.ElectraForSequenceClassification, (2, 3, 4)),
    'albert-tiny': ('albert-tiny', transformers.AlbertConfig, transformers.AlbertForSequenceClassification, (2, 3, 4)),
    'albert-tiny-groups': ('albert-tiny-groups', transformers.AlbertConfig, transformers.AlbertForSequenceClassification,
                           (2, 3, 4)),
    'xlm-roberta-tiny': ('xlm-roberta-tiny', transformers.XLMRobertaConfig,
                         transformers.XLMRobertaForSequenceClassification, (0, 2, 96)),
    # DeBERTa-v3 (shared keys, log buckets reached by the 24-token batch, relative embeddings through the encoder
    # LayerNorm), v2-style (own position projections, no buckets but the span clamped, absolute positions, token
    # types, embed_proj), and a c2p-only one.
    'deberta-v3-tiny': ('deberta-v3-tiny', transformers.DebertaV2Config, transformers.DebertaV2ForSequenceClassification,
                        (1, 2, 4)),
    'deberta-v2-tiny': ('deberta-v2-tiny', transformers.DebertaV2Config, transformers.DebertaV2ForSequenceClassification,
                        (1, 2, 4)),
    'deberta-v3-tiny-c2p': ('deberta-v3-tiny-c2p', transformers.DebertaV2Config,
                            transformers.DebertaV2ForSequenceClassification, (1, 2, 4)),
    # ModernBERT: global and sliding-window layers (window 8 < 24 tokens), first-token pooling, no biases; and
    # mean pooling with every bias, explicit layer_types and rope_parameters; -long: 96 tokens, which healbert
    # runs through its blocked sliding-window path.
    'modernbert-tiny': ('modernbert-tiny', transformers.ModernBertConfig, transformers.ModernBertForSequenceClassification,
                        (1, 2, 4)),
    'modernbert-tiny-mean': ('modernbert-tiny-mean', transformers.ModernBertConfig,
                             transformers.ModernBertForSequenceClassification, (1, 2, 4)),
    'modernbert-tiny-long': ('modernbert-tiny', transformers.ModernBertConfig,
                             transformers.ModernBertForSequenceClassification, (1, 2, 4)),
}
# (T, the padded row's length) where the batch is not 2 x 24 with 17 real tokens in its second row.
LENGTHS = {'modernbert-tiny-long': (96, 70)}
# The architectures whose batches carry two segments (token type ids); the others get none.
TOKEN_TYPES = {'bert-base', 'electra-tiny', 'electra-tiny-square', 'albert-tiny', 'albert-tiny-groups', 'deberta-v2-tiny'}
HEADS = ('classification', 'regression', 'mlm')
DEFAULT_CASES = 'bert-base:classification,bert-base:regression,bert-base:mlm,roberta-base:classification,distilbert-base:classification'


def build(arch, head, seed):
    """The transformers model, with transformers' own initialisation from a fixed seed, then moved off it."""
    config_file, config_class, classifier_class, _ = ARCHITECTURES[arch]
    with open(os.path.join(CONFIGS, f'{config_file}.json')) as f:
        raw = json.load(f)
    kwargs = {k: v for k, v in raw.items() if k not in ('model_type', 'architectures', 'transformers_version')}
    if head == 'regression':
        kwargs.update(num_labels=1, problem_type='regression')
    elif head == 'classification':
        kwargs.update(num_labels=3)
    torch.manual_seed(seed)
    if head == 'mlm':
        if arch != 'bert-base':
            raise SystemExit(f'{arch}: healbert has an MLM head for BERT only')
        model = transformers.BertForMaskedLM(config_class(**kwargs))
    else:
        model = classifier_class(config_class(**kwargs))
    # Every weight away from its init, so a parameter healbert re-initialises or ignores shows: biases not
    # 0, LayerNorm weights not 1, and the padding rows of the embeddings (zero at init) not zero. Weight
    # matrices keep transformers' normal(0, initializer_range) draw, which is already generic.
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.bias'):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif 'LayerNorm.weight' in name or 'layer_norm.weight' in name or name.endswith('norm.weight'):
                p.add_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2:
                zero_rows = (p == 0).all(dim=1).nonzero().flatten()
                p[zero_rows] = 0.02 * torch.randn(len(zero_rows), p.shape[1], generator=g)
    return model


def batch_for(arch, head, vocab_size, pad, seed):
    """B=2, T=24 (LENGTHS: other lengths): row 0 full, row 1 padded after 17 tokens; ids drawn over the whole vocabulary (the last
    id included), special tokens where the tokenizer puts them, two segments for BERT."""
    first, last, mask_id = ARCHITECTURES[arch][3]
    g = torch.Generator().manual_seed(seed)
    B, (T, length1) = 2, LENGTHS.get(arch, (24, 17))
    ids = torch.randint(3, vocab_size, (B, T), generator=g)
    ids[0, 6] = vocab_size - 1
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, length1:] = 0
    ids[:, 0] = first
    ids[0, T - 1] = last
    ids[1, length1 - 1] = last
    ids[1, length1:] = pad
    types = torch.zeros(B, T, dtype=torch.long)
    if arch in TOKEN_TYPES:
        types[0, 12:] = 1
        types[1, 9:length1] = 1
    if head == 'mlm':
        labels = torch.full((B, T), -100, dtype=torch.long)
        for row, col in [(0, 2), (0, 5), (0, 11), (0, 19), (1, 3), (1, 8), (1, 14)]:
            labels[row, col] = ids[row, col]
            ids[row, col] = mask_id
    elif head == 'regression':
        labels = torch.tensor([0.75, 3.5])
    else:
        labels = torch.tensor([2, 0])
    return ids, mask, types, labels


def layer_norms_in_float32(model):
    """CUDA's autocast computes layer_norm in float32; the CPU's leaves it in its input's dtype. For BERT,
    RoBERTa and DistilBERT the input is float32 anyway (the residual stream carries the float32 embeddings),
    but where a projection starts the stream in bfloat16 (ELECTRA, ALBERT) the CPU would keep the whole stream
    in bfloat16. healbert follows CUDA's policy on every device; so does this reference."""
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.forward = (lambda m: lambda x: torch.nn.functional.layer_norm(
                x.float(), m.normalized_shape, m.weight, m.bias, m.eps))(module)


def run(arch, head, out, autocast=False):
    """autocast: every forward pass (the steps' too) under torch.autocast('cpu', torch.bfloat16), as
    test/python/bf16_reference.py does for the tiny fixtures; the case is then <arch>-<head>-bf16."""
    case = f'{arch}-{head}'
    seed = sum(map(ord, case))
    if autocast:
        case += '-bf16'
    clock = [time.time()]
    seconds = {}

    def lap(what):
        clock.append(time.time())
        seconds[what] = round(clock[-1] - clock[-2], 1)

    model = build(arch, head, seed)
    if autocast:
        layer_norms_in_float32(model)
    lap('build')
    model.save_pretrained(os.path.join(out, case), safe_serialization=True)
    lap('save')
    config = model.config
    vocab = config.vocab_size
    ids, mask, types, labels = batch_for(arch, head, vocab, config.pad_token_id, seed)
    named = list(model.named_parameters())

    def forward(with_labels=True):
        kw = dict(input_ids=ids, attention_mask=mask, labels=labels if with_labels else None)
        if arch in TOKEN_TYPES:
            kw['token_type_ids'] = types
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            return model(**kw)

    model.eval()  # dropout off throughout, including the training steps
    ref = {'input_ids': ids, 'attention_mask': mask, 'token_type_ids': types, 'labels': labels}
    with torch.no_grad():
        logits = forward(with_labels=False).logits.float()
    if head == 'mlm':
        # A random model predicts no masked token, so an accuracy of 0 would check nothing: the labels of
        # some positions become the model's clear top prediction (labels do not change the logits).
        top2 = logits.topk(2, dim=-1)
        for row, col in [(0, 5), (0, 19), (1, 8)]:
            if top2.values[row, col, 0] - top2.values[row, col, 1] > 1e-3:
                labels[row, col] = top2.indices[row, col, 0]
        logits = logits[labels != -100]  # (labelled positions, vocab): the rest is 6 MB of unused rows
    ref['logits'] = logits
    loss = forward().loss
    ref['loss'] = loss.detach().reshape(1)
    lap('forward')
    loss.backward()
    for n, p in named:
        ref['grad.' + n] = p.grad.detach().clone()
        p.grad = None
    lap('backward')
    losses = train_like_trainer(model, named, lambda: forward().loss)
    lap('steps')
    ref['step_losses'] = torch.tensor(losses)
    for n, p in named:
        ref['after.' + n] = p.detach()
    meta = {'reference': 'transformers', 'transformers': transformers.__version__, 'torch': torch.__version__,
            'case': case, 'architecture': arch, 'head': head, 'autocast': 'cpu bfloat16' if autocast else None}
    meta.update(adamw=dict(ADAMW, betas=list(ADAMW['betas'])), schedule=SCHEDULE, max_grad_norm=MAX_GRAD_NORM, steps=STEPS)
    path = os.path.join(out, f'{case}.reference.safetensors')
    save_file({k: v.contiguous() for k, v in ref.items()}, path, metadata={k: json.dumps(v) for k, v in meta.items()})
    lap('write')
    print(json.dumps({'case': case, 'model': os.path.join(out, case), 'reference': path, 'loss': loss.item(),
                      'parameters': sum(p.numel() for _, p in named), 'seconds': round(clock[-1] - clock[0], 1),
                      'phases': seconds}), flush=True)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--cases', default=DEFAULT_CASES,
                        help='comma-separated architecture:head pairs, :bf16 appended for autocast')
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for item in a.cases.split(','):
        arch, head, *dtype = item.split(':')
        if arch not in ARCHITECTURES or head not in HEADS or dtype not in ([], ['bf16']):
            raise SystemExit(f'unknown case {item}: architectures {list(ARCHITECTURES)}, heads {list(HEADS)}, then :bf16 or nothing')
        run(arch, head, a.out, autocast=dtype == ['bf16'])
