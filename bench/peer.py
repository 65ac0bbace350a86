#!/usr/bin/env python3
"""The peer for bench/train-step.ts: Hugging Face transformers' <Family>ForSequenceClassification with the
settings the peer figures in ../shared/device/README.md use (SDPA attention, bf16 autocast, fused AdamW on
CUDA), base-size shapes, random weights, the same batch shapes and timing method (median of timed steps
after warm-up, synchronised).

  python3 bench/peer.py --device cuda --dtype bfloat16 [--family bert|roberta|distilbert] [--batch 32 --seq 128 --steps 50]
"""
import argparse
import json
import os
import statistics
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# family -> (configuration in test/fixtures/configs, transformers config and model classes, takes token types)
FAMILIES = {
    'bert': ('bert-base-uncased', 'BertConfig', 'BertForSequenceClassification', True),
    'roberta': ('roberta-base', 'RobertaConfig', 'RobertaForSequenceClassification', True),
    'distilbert': ('distilbert-base-uncased', 'DistilBertConfig', 'DistilBertForSequenceClassification', False),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='cpu')
    p.add_argument('--dtype', default=None)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--seq', type=int, default=128)
    p.add_argument('--steps', type=int, default=None)
    p.add_argument('--eval-batch', type=int, default=256)
    p.add_argument('--eval-steps', type=int, default=None)
    p.add_argument('--family', default='bert', choices=sorted(FAMILIES))
    a = p.parse_args()
    cuda = a.device.startswith('cuda')
    dtype = a.dtype or ('bfloat16' if cuda else 'float32')
    steps = a.steps or (50 if cuda else 3)
    eval_steps = a.eval_steps or (20 if cuda else 2)
    device = torch.device(a.device)
    config_name, config_class, model_class, token_types = FAMILIES[a.family]
    config = json.load(open(os.path.join(ROOT, 'test', 'fixtures', 'configs', f'{config_name}.json')))

    import transformers
    cfg = getattr(transformers, config_class)(**{k: v for k, v in config.items() if k != 'model_type'}, num_labels=2)
    model = getattr(transformers, model_class)._from_config(cfg, attn_implementation='sdpa').to(device)
    implementation = f'transformers {transformers.__version__} (SDPA)'

    def inputs(ids, mask, types):
        return dict(input_ids=ids, attention_mask=mask, **({'token_type_ids': types} if token_types else {}))

    def loss_fn(ids, mask, types, labels):
        return model(**inputs(ids, mask, types), labels=labels).loss

    def logits_fn(ids, mask, types):
        return model(**inputs(ids, mask, types)).logits

    opt_kwargs = dict(lr=2e-5, weight_decay=0.0)
    if cuda and hasattr(torch.optim.AdamW, '__init__'):
        try:
            opt = torch.optim.AdamW(model.parameters(), fused=True, **opt_kwargs)
        except (TypeError, RuntimeError):
            opt = torch.optim.AdamW(model.parameters(), **opt_kwargs)
    else:
        opt = torch.optim.AdamW(model.parameters(), **opt_kwargs)
    model.train()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 30000, (a.batch, a.seq), generator=g).to(device)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    labels = torch.randint(0, 2, (a.batch,), generator=g).to(device)
    autocast = torch.autocast(device_type='cuda' if cuda else 'cpu', dtype=torch.bfloat16, enabled=dtype == 'bfloat16')
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def train_step():
        opt.zero_grad(set_to_none=True)
        with autocast:
            loss = loss_fn(ids, mask, types, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    def timed(fn, warmup, repeat):
        for _ in range(warmup):
            fn()
        sync()
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            sync()
            samples.append((time.perf_counter() - t0) * 1000)
        return statistics.median(samples)

    step_ms = timed(train_step, min(5, steps), steps)
    eval_ids = torch.randint(1000, 30000, (a.eval_batch, a.seq), generator=g).to(device)
    model.eval()

    def evaluate():
        with torch.inference_mode(), autocast:
            return logits_fn(eval_ids, torch.ones_like(eval_ids), torch.zeros_like(eval_ids)).float().cpu()

    eval_ms = timed(evaluate, 2, eval_steps)
    result = dict(bench='train-step', implementation=implementation, device=a.device,
                  deviceName=torch.cuda.get_device_name(device) if cuda else f'CPU ({torch.get_num_threads()} threads)',
                  torch=torch.__version__, dtype=dtype, family=a.family,
                  shape=dict(model=f'{config_name} (random weights)', batch=a.batch, seq=a.seq, evalBatch=a.eval_batch),
                  trainStepMs=step_ms, trainSamplesPerSecond=a.batch * 1000 / step_ms,
                  evalBatchMs=eval_ms, evalSamplesPerSecond=a.eval_batch * 1000 / eval_ms,
                  runs=dict(train=steps, eval=eval_steps))
    print(json.dumps(result, indent=2))
    out = os.environ.get('OUT') or os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f'train-step-peer-{"" if a.family == "bert" else a.family + "-"}{a.device.replace(":", "")}-{dtype}.json'), 'w') as f:
        json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
