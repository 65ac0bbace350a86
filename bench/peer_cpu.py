#!/usr/bin/env python3
"""The peer of `npm run bench:cpu` (bench/cpu.ts): each workload done with Hugging Face transformers and
torch the way a researcher writes it, with the same shapes, dtype, rows and recipe as healbert's side, timed
the same way (median of timed repeats after warm-up). --dtype bfloat16 runs every forward pass under
torch.autocast('cpu', torch.bfloat16) (float32 weights and optimizer, as healbert's bf16 mode), the way
transformers' Trainer does with bf16=True. One workload per call; prints one JSON object. Run by bench/cpu.ts
with the pip-torch lane's python (the same torch healbert is built against).

  python bench/peer_cpu.py train-step|eval|corrupt|cell|probe|mlm-step [--repeat N] [--work DIR] [--dtype D]
"""
import argparse
import csv
import json
import math
import os
import random
import statistics
import sys
import time

import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONFIG = json.load(open(os.path.join(ROOT, 'test', 'fixtures', 'configs', 'bert-base-uncased.json')))
# --family electra|deberta|modernbert: the train-step and eval workloads on ELECTRA-base's discriminator,
# DeBERTa-v3-base's or ModernBERT-base's shapes instead (DeBERTa-v2 has only its eager attention; ModernBERT and
# the others run SDPA).
FAMILIES = {
    'bert': ('bert-base-uncased', 'BertConfig', 'BertForSequenceClassification'),
    'electra': ('electra-base-discriminator', 'ElectraConfig', 'ElectraForSequenceClassification'),
    'deberta': ('deberta-v3-base', 'DebertaV2Config', 'DebertaV2ForSequenceClassification'),
    'modernbert': ('modernbert-base', 'ModernBertConfig', 'ModernBertForSequenceClassification'),
}
FAMILY = 'bert'
TOKENIZER = os.path.join(ROOT, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased')


# Set by main() from --dtype: the autocast context every forward pass runs in.
DTYPE = 'float32'


def autocast():
    return torch.autocast('cpu', dtype=torch.bfloat16, enabled=DTYPE == 'bfloat16')


def bert_config(**extra):
    return transformers.BertConfig(**{k: v for k, v in CONFIG.items() if k != 'model_type'}, **extra)


def timed(fn, warmup, repeat):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), samples


def random_ids(b, t, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1000, 30000, (b, t), generator=g)


def timed_steps(a, model, opt, inputs):
    """Median ms of AdamW steps with clipping on one batch, dropout on (train mode)."""
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = model(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    ms, samples = timed(step, 2, a.repeat)
    return dict(ms=ms, samples=samples, shape=[a.batch, a.seq])


def classifier():
    """The --family's base-size sequence classifier, random weights, SDPA attention."""
    name, config_class, model_class = FAMILIES[FAMILY]
    raw = json.load(open(os.path.join(ROOT, 'test', 'fixtures', 'configs', f'{name}.json')))
    config = getattr(transformers, config_class)(**{k: v for k, v in raw.items() if k not in ('model_type', 'architectures')},
                                                  num_labels=2)
    # DebertaV2 has no SDPA implementation (its disentangled attention is eager only).
    attention = 'eager' if FAMILY == 'deberta' else 'sdpa'
    return getattr(transformers, model_class)._from_config(config, attn_implementation=attention)


def train_step(a):
    """bert-base (or the --family's) sequence classification, one AdamW step with clipping."""
    model = classifier()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0)
    ids = random_ids(a.batch, a.seq, 1)
    labels = torch.randint(0, 2, (a.batch,), generator=torch.Generator().manual_seed(2))
    return timed_steps(a, model, opt, dict(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, **token_types(ids)))


def token_types(ids):
    """All zeros, where the family takes token type ids (ModernBERT's forward has none)."""
    return {} if FAMILY == 'modernbert' else {'token_type_ids': torch.zeros_like(ids)}


def resident_mb(field):
    """VmRSS (now) or VmHWM (the peak since the last reset) of this process, in MB (Linux)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return None


def evaluate(a):
    """bert-base (or the --family's) logits for one batch, inference mode."""
    model = classifier()
    model.eval()
    ids = random_ids(a.batch, a.seq, 3)

    def run():
        with torch.inference_mode(), autocast():
            return model(input_ids=ids, attention_mask=torch.ones_like(ids), **token_types(ids)).logits

    ms, samples = timed(run, 1, a.repeat)
    out = dict(ms=ms, samples=samples, shape=[a.batch, a.seq])
    if a.peak_memory:
        # The peak resident memory of one more evaluation: the peak counter reset (clear_refs 5) with the model
        # loaded and warm, then read after the pass.
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        before = resident_mb('VmRSS')
        run()
        out.update(rss_before_mb=before, peak_rss_mb=resident_mb('VmHWM'))
    return out


def mlm_step(a):
    """bert-base masked-language-model step (tied decoder), AdamW with weight decay and clipping."""
    model = transformers.BertForMaskedLM._from_config(bert_config(), attn_implementation='sdpa')
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = random_ids(a.batch, a.seq, 4)
    g = torch.Generator().manual_seed(5)
    labels = torch.where(torch.rand(ids.shape, generator=g) < 0.15, ids, torch.full_like(ids, -100))
    inputs = torch.where(labels != -100, torch.full_like(ids, 103), ids)
    return timed_steps(a, model, opt, dict(input_ids=inputs, attention_mask=torch.ones_like(ids), labels=labels))


def corrupt(a):
    """Each corruption method on bert-base's 12 encoder layers, a Python loop over the parameters with
    torch's in-place ops (what a researcher writes); gaussian also on layer 0 alone."""
    model = transformers.BertModel(bert_config())
    layers = {'all': [p for n, p in model.named_parameters() if '.layer.' in f'.{n}'],
              '0': [p for n, p in model.named_parameters() if n.startswith('encoder.layer.0.')]}
    names = [n for n, _ in model.named_parameters() if '.layer.' in f'.{n}']
    snapshot = [p.detach().clone() for p in layers['all']]

    def loop(params, fn):
        def run():
            with torch.no_grad():
                for p in params:
                    fn(p)
        return run

    def reinit(p):
        if p.dim() == 2:
            torch.nn.init.kaiming_uniform_(p, a=math.sqrt(5))
        else:
            p.zero_()  # biases 0 (LayerNorm weights 1, as healbert does, set below)

    ln_weights = {id(p) for n, p in zip(names, layers['all']) if 'LayerNorm.weight' in n}

    def reinit_ln(p):
        if id(p) in ln_weights:
            p.fill_(1.0)
        else:
            reinit(p)

    def bitflip(p):
        # Each of the 32 bits flips with probability 1e-3: an entry is hit with probability about 32e-3 and
        # then one uniformly chosen bit flips (two flips in one entry, ~5e-4 of entries, are left out: the
        # cheap version a researcher writes).
        bits = p.view(torch.int32)
        hit = torch.rand(p.shape) < 32e-3
        bits.bitwise_xor_(torch.where(hit, torch.ones_like(bits) << torch.randint_like(bits, 0, 32), 0))

    workloads = {
        'gaussian': loop(layers['all'], lambda p: p.add_(torch.randn_like(p) * 0.01)),
        'gaussian (layer 0)': loop(layers['0'], lambda p: p.add_(torch.randn_like(p) * 0.01)),
        'gaussian-relative': loop(layers['all'], lambda p: p.add_(torch.randn_like(p) * (0.1 * p.std()))),
        'uniform': loop(layers['all'], lambda p: p.add_((torch.rand_like(p) - 0.5) * (0.1 * p.std()))),
        'zero': loop(layers['all'], lambda p: p.zero_()),
        'sign-flip': loop(layers['all'], lambda p: p.neg_()),
        'scale': loop(layers['all'], lambda p: p.mul_(0.5)),
        'bit-flip': loop(layers['all'], bitflip),
        'reinit': loop(layers['all'], reinit_ln),
        'revert': lambda: [p.detach().copy_(s) for p, s in zip(layers['all'], snapshot)],
    }
    rows = {}
    cheap = {'zero', 'sign-flip', 'scale', 'revert'}
    for name, fn in workloads.items():
        ms, samples = timed(fn, 2, max(a.repeat, a.repeat_cheap) if name in cheap else a.repeat)
        rows[name] = dict(ms=ms, samples=samples)
    return dict(rows=rows, tensors=len(layers['all']), parameters=sum(p.numel() for p in layers['all']))


def read_tsv(path):
    with open(path, encoding='utf-8') as f:
        rows = list(csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE))
    return [(r[0], int(r[1])) for r in rows[1:]]


def cell_data(a):
    tokenizer = transformers.AutoTokenizer.from_pretrained(TOKENIZER)
    train = read_tsv(os.path.join(a.work, 'train-subset.tsv'))
    dev = read_tsv(os.path.join(a.work, 'dev.tsv'))
    return tokenizer, train, dev


def cell(a):
    """One fine-tuning cell as a researcher writes it: bert-base (the same random weights healbert starts
    from), the fast tokenizer with dynamic padding, AdamW with Trainer's decay groups, the linear schedule,
    clipping; one epoch on the subset, then dev accuracy. The same rows, batch sizes and epochs as healbert."""
    tokenizer, train, dev = cell_data(a)
    recipe = json.load(open(os.path.join(a.work, 'recipe.json')))
    t0 = time.perf_counter()
    model = transformers.BertForSequenceClassification.from_pretrained(os.path.join(a.work, 'model'), num_labels=2, attn_implementation='sdpa')
    decay = set(transformers.Trainer.get_decay_parameter_names(None, model))
    named = list(model.named_parameters())
    groups = [{'params': [p for n, p in named if n in decay], 'weight_decay': recipe['weightDecay']},
              {'params': [p for n, p in named if n not in decay], 'weight_decay': 0.0}]
    opt = torch.optim.AdamW(groups, lr=recipe['lr'])
    b = recipe['batchSize']
    steps = math.ceil(len(train) / b) * recipe['epochs']
    sched = transformers.get_linear_schedule_with_warmup(opt, int(recipe['warmupRatio'] * steps), steps)
    order = list(range(len(train)))
    model.train()
    for epoch in range(recipe['epochs']):
        random.Random(epoch).shuffle(order)
        for s in range(0, len(train), b):
            batch = [train[i] for i in order[s:s + b]]
            enc = tokenizer([t for t, _ in batch], padding=True, truncation=True, max_length=recipe['maxLength'], return_tensors='pt')
            with autocast():
                loss = model(**enc, labels=torch.tensor([y for _, y in batch])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    model.eval()
    correct = 0
    with torch.inference_mode(), autocast():
        for s in range(0, len(dev), recipe['evalBatchSize']):
            batch = dev[s:s + recipe['evalBatchSize']]
            enc = tokenizer([t for t, _ in batch], padding=True, truncation=True, max_length=recipe['maxLength'], return_tensors='pt')
            pred = model(**enc).logits.argmax(-1)
            correct += sum(int(p == y) for p, (_, y) in zip(pred.tolist(), batch))
    ms = (time.perf_counter() - t0) * 1000
    return dict(ms=ms, accuracy=correct / len(dev), train=len(train), dev=len(dev))


def probe(a):
    """The cell's linear probe as a researcher writes it: first-token features of the frozen model for the
    training rows and the dev rows (inference mode, dynamic padding), standardised, then softmax regression
    trained with Adam for the same epochs, batch size, learning rate and L2 penalty as healbert's probe."""
    tokenizer, train, dev = cell_data(a)
    recipe = json.load(open(os.path.join(a.work, 'recipe.json')))
    p = recipe['probe']
    t0 = time.perf_counter()
    model = transformers.BertModel.from_pretrained(os.path.join(a.work, 'model'), attn_implementation='sdpa', add_pooling_layer=False)
    model.eval()

    def features(rows):
        out = []
        with torch.inference_mode(), autocast():
            for s in range(0, len(rows), recipe['evalBatchSize']):
                enc = tokenizer([t for t, _ in rows[s:s + recipe['evalBatchSize']]], padding=True, truncation=True,
                                max_length=recipe['maxLength'], return_tensors='pt')
                out.append(model(**enc).last_hidden_state[:, 0].float())
        return torch.cat(out)

    x_train, x_dev = features(train), features(dev)
    mean, std = x_train.mean(0), x_train.std(0, unbiased=False).clamp_min(1e-12)
    x_train, x_dev = (x_train - mean) / std, (x_dev - mean) / std
    y_train = torch.tensor([y for _, y in train])
    head = torch.nn.Linear(x_train.shape[1], 2)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    opt = torch.optim.Adam(head.parameters(), lr=p['lr'])
    g = torch.Generator().manual_seed(0)
    for _ in range(p['epochs']):
        perm = torch.randperm(len(train), generator=g)
        for s in range(0, len(train), p['batchSize']):
            idx = perm[s:s + p['batchSize']]
            loss = torch.nn.functional.cross_entropy(head(x_train[idx]), y_train[idx]) + p['l2'] * head.weight.pow(2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        accuracy = (head(x_dev).argmax(-1) == torch.tensor([y for _, y in dev])).float().mean().item()
    ms = (time.perf_counter() - t0) * 1000
    return dict(ms=ms, accuracy=accuracy)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('workload', choices=['train-step', 'eval', 'corrupt', 'cell', 'probe', 'mlm-step'])
    p.add_argument('--repeat', type=int, default=5)
    p.add_argument('--repeat-cheap', type=int, default=31, help='repeats of the memory-bound corruption methods')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--seq', type=int, default=128)
    p.add_argument('--work', default=None)
    p.add_argument('--dtype', choices=['float32', 'bfloat16'], default='float32')
    p.add_argument('--family', choices=sorted(FAMILIES), default='bert')
    p.add_argument('--peak-memory', action='store_true', help='eval: also the peak resident memory of one pass')
    a = p.parse_args()
    global DTYPE, FAMILY
    DTYPE = a.dtype
    FAMILY = a.family
    torch.manual_seed(0)
    fn = {'train-step': train_step, 'eval': evaluate, 'corrupt': corrupt, 'cell': cell, 'probe': probe, 'mlm-step': mlm_step}[a.workload]
    result = fn(a)
    result.update(dtype=a.dtype, implementation=f'transformers {transformers.__version__}, torch {torch.__version__}',
                  threads=torch.get_num_threads(), python=sys.version.split()[0])
    print(json.dumps(result))


if __name__ == '__main__':
    main()
