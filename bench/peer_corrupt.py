#!/usr/bin/env python3
"""The peer for bench/corrupt.ts: corrupting all 12 encoder layers of bert-base in place with a Python loop
over parameters (what a researcher writes with torch), timed with synchronisation, median of repeats.
Uses transformers' BertModel when installed, else bert-base-shaped tensors with the same names and shapes.

  python3 bench/peer_corrupt.py --device cuda [--repeat 50] [--rows all|heads]

The head rows corrupt one attention head of layer 0 as bench/corrupt.ts does: rows 0..63 of the query, key
and value weights and biases and columns 0..63 of the attention output weight, slice by slice in place
(zero_, normal noise added, or kaiming-uniform values with the whole matrix's fan-in), next to the layer.
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
    p.add_argument('--rows', default='all', choices=['all', 'heads'])
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

    def zero_layer0():
        for t in layer0:
            t.zero_()

    def reinit_layer0():
        for t in layer0:
            if t.dim() == 2:
                torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))
            else:
                t.zero_()

    # Head 0 of layer 0 (d = 64): in layer order query, key, value and output (weight, bias), so tensors 0-5
    # are the query/key/value weights and biases and 6 the output weight; its bias (7) is shared by all heads.
    d = 768 // 12
    head0 = [layer0[i][:d] for i in range(6)] + [layer0[6][:, :d]]
    fan_in = [layer0[i].shape[-1] for i in range(6)] + [layer0[6].shape[1]]

    def gaussian_head0():
        for t in head0:
            t.add_(torch.randn_like(t) * 0.01)

    def zero_head0():
        for t in head0:
            t.zero_()

    def reinit_head0():
        for t, n in zip(head0, fan_in):
            if t.dim() == 2:
                t.uniform_(-1 / math.sqrt(n), 1 / math.sqrt(n))  # kaiming_uniform_(a=sqrt(5)) of the whole matrix
            else:
                t.zero_()

    layer_rows = [('gaussian', 'all', gaussian), ('gaussian', '0', gaussian_layer0),
                  ('gaussian-relative', 'all', gaussian_relative), ('zero', 'all', zero), ('reinit', 'all', reinit)]
    head_rows = [('gaussian', '0', gaussian_layer0), ('gaussian', '0 head 0', gaussian_head0),
                 ('zero', '0', zero_layer0), ('zero', '0 head 0', zero_head0),
                 ('reinit', '0', reinit_layer0), ('reinit', '0 head 0', reinit_head0)]
    specs = head_rows if a.rows == 'heads' else layer_rows + head_rows[1:]
    sizes = {'all': nbytes, '0': sum(t.numel() * 4 for t in layer0), '0 head 0': sum(t.numel() * 4 for t in head0)}
    rows = []
    with torch.no_grad():
        for name, layers, fn in specs:
            samples = []
            for i in range(repeat + 3):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                if i >= 3:
                    samples.append((time.perf_counter() - t0) * 1000)
            ms = statistics.median(samples)
            corrupted = sizes[layers]
            rows.append(dict(method=name, layers=layers, entries=corrupted // 4, medianMs=ms,
                             effectiveGBps=2 * corrupted / (ms / 1000) / 1e9))
    for row in rows:
        layer = next((r for r in rows if r['method'] == row['method'] and r['layers'] == '0'), None)
        if row['layers'] == '0 head 0' and layer:
            row['layerOverHead'] = layer['medianMs'] / row['medianMs']
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
