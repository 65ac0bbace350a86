#!/usr/bin/env python3
"""The peer for bench/corrupt.ts: corrupting all 12 encoder layers of bert-base in place with a Python loop
over parameters (what a researcher writes with torch), timed with synchronisation, median of repeats.
Uses transformers' BertModel when installed, else bert-base-shaped tensors with the same names and shapes.

  python3 bench/peer_corrupt.py --device cuda [--repeat 50]
"""
import argparse
import json
import math
import os
import statistics
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def encoder_parameters(device):
    try:
        import transformers
        config = transformers.BertConfig()
        model = transformers.BertModel(config).to(device)
        return [p for n, p in model.named_parameters() if '.encoder.layer.' in f'.{n}'], f'transformers {transformers.__version__} BertModel'
    except ImportError:
        h, i = 768, 3072
        shapes = []
        for _ in range(12):
            shapes += [(h, h), (h,)] * 4 + [(h,), (h,), (i, h), (i,), (h, i), (h,), (h,), (h,)]
        return [torch.nn.Parameter(torch.randn(s, device=device) * 0.02) for s in shapes], 'bert-base-shaped tensors (transformers not installed)'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeat', type=int, default=None)
    a = p.parse_args()
    cuda = a.device.startswith('cuda')
    device = torch.device(a.device)
    repeat = a.repeat or (50 if cuda else 5)
    params, source = encoder_parameters(device)
    nbytes = sum(t.numel() * 4 for t in params)
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def gaussian():
        for t in params:
            t.add_(torch.randn_like(t) * 0.01)

    def gaussian_relative():
        for t in params:
            t.add_(torch.randn_like(t) * (0.1 * t.std()))

    def zero():
        for t in params:
            t.zero_()

    def reinit():
        for t in params:
            if t.dim() == 2:
                torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))
            elif t.dim() == 1:
                t.zero_()

    layer0 = params[:len(params) // 12]  # the encoder's tensors come layer by layer, 16 per layer

    def gaussian_layer0():
        for t in layer0:
            t.add_(torch.randn_like(t) * 0.01)

    rows = []
    with torch.no_grad():
        for name, layers, fn in [('gaussian', 'all', gaussian), ('gaussian', '0', gaussian_layer0),
                                 ('gaussian-relative', 'all', gaussian_relative), ('zero', 'all', zero), ('reinit', 'all', reinit)]:
            samples = []
            for i in range(repeat + 3):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                if i >= 3:
                    samples.append((time.perf_counter() - t0) * 1000)
            ms = statistics.median(samples)
            corrupted = nbytes if layers == 'all' else sum(t.numel() * 4 for t in layer0)
            rows.append(dict(method=name, layers=layers, medianMs=ms, effectiveGBps=2 * corrupted / (ms / 1000) / 1e9))
    result = dict(bench='corrupt', implementation=f'Python loop over parameters ({source})', device=a.device,
                  deviceName=torch.cuda.get_device_name(device) if cuda else f'CPU ({torch.get_num_threads()} threads)',
                  torch=torch.__version__, tensors=len(params), parameters=nbytes // 4, repeat=repeat, rows=rows)
    print(json.dumps(result, indent=2))
    out = os.environ.get('OUT') or os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f'corrupt-peer-{a.device.replace(":", "")}.json'), 'w') as f:
        json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
