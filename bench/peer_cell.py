#!/usr/bin/env python3
"""The peer for bench/sweep-cell.ts: one cell's fine-tuning done with Hugging Face transformers the way a
researcher would (BertForSequenceClassification, bert-base shapes, random weights, the fast tokenizer,
dynamic padding, AdamW, linear schedule, clipping, bf16 autocast and fused AdamW on CUDA): one epoch on the
same training subset (sweep-cell/train-subset.tsv written by sweep-cell.ts) and an evaluation of SST-2 dev.
Reports seconds per cell and cells per hour (the linear probe of healbert's cell is not counted here, which
favours the peer).

  python3 bench/peer_cell.py --device cuda --glue ../shared/data/glue --work $OUT/sweep-cell
"""
import argparse
import csv
import json
import os
import random
import time

import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def read_tsv(path):
    with open(path, encoding='utf-8') as f:
        rows = list(csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE))
    return [(r[0], int(r[1])) for r in rows[1:]]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='cuda')
    p.add_argument('--glue', required=True)
    p.add_argument('--work', required=True)
    a = p.parse_args()
    cuda = a.device.startswith('cuda')
    device = torch.device(a.device)
    tok_dir = os.path.join(ROOT, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased')
    tokenizer = transformers.AutoTokenizer.from_pretrained(tok_dir)
    assert tokenizer('hello world')['input_ids'] == [101, 7592, 2088, 102], 'tokenizer probe failed'
    train = read_tsv(os.path.join(a.work, 'train-subset.tsv'))
    dev = read_tsv(os.path.join(a.glue, 'SST-2', 'dev.tsv'))
    config = json.load(open(os.path.join(ROOT, 'test', 'fixtures', 'configs', 'bert-base-uncased.json')))
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    t0 = time.perf_counter()
    cfg = transformers.BertConfig(**{k: v for k, v in config.items() if k != 'model_type'}, num_labels=2)
    model = transformers.BertForSequenceClassification._from_config(cfg, attn_implementation='sdpa').to(device)
    steps = (len(train) + 31) // 32
    try:
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0, fused=cuda)
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0)
    sched = transformers.get_linear_schedule_with_warmup(opt, 0, steps)
    autocast = torch.autocast(device_type='cuda' if cuda else 'cpu', dtype=torch.bfloat16, enabled=cuda)
    order = list(range(len(train)))
    random.Random(0).shuffle(order)
    model.train()
    for s in range(steps):
        batch = [train[i] for i in order[s * 32:(s + 1) * 32]]
        enc = tokenizer([t for t, _ in batch], padding=True, truncation=True, max_length=128, return_tensors='pt').to(device)
        labels = torch.tensor([y for _, y in batch], device=device)
        with autocast:
            loss = model(**enc, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    model.eval()
    correct = 0
    with torch.inference_mode(), autocast:
        for s in range(0, len(dev), 256):
            batch = dev[s:s + 256]
            enc = tokenizer([t for t, _ in batch], padding=True, truncation=True, max_length=128, return_tensors='pt').to(device)
            pred = model(**enc).logits.argmax(-1).cpu()
            correct += sum(int(p == y) for p, (_, y) in zip(pred.tolist(), batch))
    sync()
    seconds = time.perf_counter() - t0
    result = dict(bench='sweep-cell', implementation=f'transformers {transformers.__version__} (SDPA, bf16, fused AdamW)' if cuda else f'transformers {transformers.__version__}',
                  device=a.device, deviceName=torch.cuda.get_device_name(device) if cuda else 'CPU', torch=torch.__version__,
                  train=len(train), epochs=1, secondsPerCell=seconds, cellsPerHour=3600 / seconds, accuracy=correct / len(dev))
    print(json.dumps(result, indent=2))
    out = os.environ.get('OUT') or os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f'sweep-cell-peer-{a.device.replace(":", "")}.json'), 'w') as f:
        json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
