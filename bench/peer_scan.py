#!/usr/bin/env python3
"""The peer for bench/scan.ts: the same layer-sensitivity scan written with Hugging Face transformers, as a
researcher would. Loads the same folder with AutoModelForSequenceClassification, evaluates the first N rows of
SST-2 dev (tokenized by the folder's fast tokenizer, batches of examples sorted by length as healbert's
evaluation does), then for each encoder layer: re-initialises that layer's parameters as healbert's reinit does
(nn.Linear weights Kaiming-uniform with a=sqrt(5), i.e. nn.Linear's own init; biases 0; LayerNorm 1 and 0),
evaluates, and restores every weight from a state_dict copy taken at the start (load_state_dict). Each phase is
timed; the median over layers is reported.

  python3 bench/peer_scan.py --model <folder> --data /work/shared/data/glue --rows 64 [--batch-size 32] [--device cpu]
"""
import argparse
import csv
import json
import math
import os
import statistics
import sys
import time

import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def read_rows(data, n):
    with open(os.path.join(data, 'SST-2', 'dev.tsv'), encoding='utf-8', newline='') as f:
        reader = csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE)
        next(reader)
        rows = [(r[0], int(r[1])) for r in reader]
    return rows[:n]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--data', default='/work/shared/data/glue')
    p.add_argument('--rows', type=int, default=64)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--max-length', type=int, default=128)
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    device = torch.device(a.device)
    cuda = a.device.startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    t0 = time.perf_counter()
    model = AutoModelForSequenceClassification.from_pretrained(a.model).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    load_seconds = time.perf_counter() - t0

    rows = read_rows(a.data, a.rows)
    encoded = [tokenizer(text, truncation=True, max_length=a.max_length)['input_ids'] for text, _ in rows]
    labels = torch.tensor([label for _, label in rows])
    order = sorted(range(len(rows)), key=lambda i: len(encoded[i]))
    batches = []
    for start in range(0, len(order), a.batch_size):
        idx = order[start:start + a.batch_size]
        batch = tokenizer.pad({'input_ids': [encoded[i] for i in idx]}, return_tensors='pt')
        batches.append((idx, {k: v.to(device) for k, v in batch.items()}))

    def evaluate():
        predictions = torch.empty(len(rows), dtype=torch.long)
        with torch.inference_mode():
            for idx, batch in batches:
                logits = model(**batch).logits
                predictions[idx] = logits.argmax(-1).cpu()
        return (predictions == labels).float().mean().item()

    def reinit(layer):
        with torch.no_grad():
            for module in layer.modules():
                if isinstance(module, torch.nn.Linear):
                    torch.nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5))
                    module.bias.zero_()
                elif isinstance(module, torch.nn.LayerNorm):
                    module.weight.fill_(1.0)
                    module.bias.zero_()

    t0 = time.perf_counter()
    clean_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    copy_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    clean = evaluate()
    clean_seconds = time.perf_counter() - t0

    runs = []
    torch.manual_seed(0)
    for i, layer in enumerate(model.bert.encoder.layer):
        sync()
        start = time.perf_counter()
        reinit(layer)
        sync()
        corrupted = time.perf_counter()
        accuracy = evaluate()
        sync()
        evaluated = time.perf_counter()
        model.load_state_dict(clean_state)
        sync()
        restored = time.perf_counter()
        runs.append(dict(target=f'layer {i}', accuracy=accuracy, seconds=restored - start, corruptMs=(corrupted - start) * 1000,
                         evaluateSeconds=evaluated - corrupted, restoreMs=(restored - evaluated) * 1000))
        print(f'  [peer {i + 1}/{len(model.bert.encoder.layer)}] layer {i}: {accuracy:.4f} ({restored - start:.2f} s)', flush=True,
              file=sys.stderr)
    restored_exactly = all(torch.equal(v, clean_state[k]) for k, v in model.state_dict().items())

    def median(key):
        return statistics.median(r[key] for r in runs)

    print(json.dumps(dict(
        bench='scan', implementation='transformers AutoModelForSequenceClassification, Python loop',
        transformers=transformers.__version__, torch=torch.__version__, device=a.device,
        deviceName=torch.cuda.get_device_name(device) if cuda else f'CPU ({torch.get_num_threads()} threads)',
        model=a.model, rows=len(rows), batchSize=a.batch_size, maxLength=a.max_length,
        cleanAccuracy=clean, cleanEvaluateSeconds=clean_seconds, loadSeconds=load_seconds, stateCopySeconds=copy_seconds,
        restoredExactly=restored_exactly,
        perTarget=dict(medianSeconds=median('seconds'), medianCorruptMs=median('corruptMs'),
                       medianEvaluateSeconds=median('evaluateSeconds'), medianRestoreMs=median('restoreMs')),
        runs=runs), indent=2))


if __name__ == '__main__':
    main()
