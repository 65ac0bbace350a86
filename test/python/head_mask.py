"""
A masked attention head in Hugging Face transformers, the reference for healbert's head corruption
(test/model/head-mask-transformers.test.ts calls this with the pip-torch lane's python).

  head_mask.py <folder> <layer> <head> [<head> ...]
      Loads <folder> with AutoModelForSequenceClassification (eval mode) and runs the batch on stdin without
      any mask, then with each <head> of layer <layer> masked in turn (one at a time). stdout:
      {"clean": logits, "masked": [logits per head]}, logits B x L row-major.

Masking is what head_mask did before transformers 5 removed it: the head's attention output (its d columns
of the context that enters the attention output projection) is multiplied by 0. It is done here by a forward
pre-hook on that projection (BERT and RoBERTa: attention.output.dense; DistilBERT: attention.out_lin), so no
weight is touched. A batch is {"input_ids": [[...]], "attention_mask": [[...]]}.
"""

import json
import sys

import torch
import transformers
from transformers import AutoModelForSequenceClassification

transformers.logging.set_verbosity_error()
torch.set_num_threads(1)


def output_projection(model, layer):
    base = getattr(model, model.base_model_prefix)
    if hasattr(base, "transformer"):  # DistilBERT
        return base.transformer.layer[layer].attention.out_lin
    return base.encoder.layer[layer].attention.output.dense


def main():
    folder, layer, heads = sys.argv[1], int(sys.argv[2]), [int(h) for h in sys.argv[3:]]
    batch = json.load(sys.stdin)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    model.eval()
    inputs = {k: torch.tensor(batch[k], dtype=torch.long) for k in ("input_ids", "attention_mask")}
    out = {"masked": []}
    d = model.config.hidden_size // model.config.num_attention_heads
    with torch.no_grad():
        out["clean"] = model(**inputs).logits.reshape(-1).tolist()
        for head in heads:

            def mask(_module, args, head=head):
                context = args[0].clone()  # (B, T, H): the heads' outputs side by side
                context[..., head * d : (head + 1) * d] = 0
                return (context,) + args[1:]

            handle = output_projection(model, layer).register_forward_pre_hook(mask)
            out["masked"].append(model(**inputs).logits.reshape(-1).tolist())
            handle.remove()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
