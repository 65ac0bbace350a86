#!/usr/bin/env python3
"""Reference encodings from Hugging Face transformers' AutoTokenizer, for test/tokenizer/transformers-parity.test.ts.

Reads one JSON request from the file named as the first argument, or from stdin:

    {
      "inputs": [{"text": "...", "text_pair": "..."}, ...],     # text_pair absent or null: a single sequence
      "jobs": [
        {"tokenizer": "<model folder>", "max_length": 128,      # null: no truncation
         "add_special_tokens": true, "start": 0, "end": 100,    # the inputs[start:end] to encode (default: all)
         "reuse_untruncated": false}                            # see below
      ]
    }

and encodes, for each job, its inputs with `AutoTokenizer.from_pretrained(folder)` (what a user of transformers
calls) as healbert means to: pairs as pairs, `add_special_tokens` as given, `truncation=True` (longest_first)
at `max_length`, or no truncation at all where it is null. It writes JSON lines to stdout: first
{"meta": {...versions, and per job the tokenizer's class and model_input_names}}, then one line per encoded
input, in job order then input order:

    {"job": 0, "index": 17, "input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}

and last {"encoded": [per job, how many inputs transformers encoded for it]} (see reuse_untruncated).

token_type_ids appear only where the tokenizer returns them by default (its model_input_names: BERT and
DistilBERT in transformers 5, not RoBERTa). Each job is two batch calls (singles, pairs), as run_glue.py
tokenizes: in a batch an empty text_pair is still a pair, where a single call `tok(text, "")` would drop it.

With "reuse_untruncated", a job with a max_length takes the encodings of an earlier job of the same request
over the same tokenizer, inputs and add_special_tokens with max_length null, and encodes again only the
inputs whose untruncated encoding is longer than max_length: the others are the untruncated encoding
(truncation=True changes nothing that fits, and stops tokenizing a sequence only once it holds max_length
tokens). At max length 128 that leaves about 60 of the 9,634 GLUE dev rows to encode again.
"""
import json
import sys

import tokenizers
import transformers
from transformers import AutoTokenizer


def encode(tok, inputs, max_length, add_special_tokens):
    """Encodings of `inputs` in their order: singles and pairs go in one batch call each."""
    kwargs = {"add_special_tokens": add_special_tokens}
    if max_length is None:
        kwargs["truncation"] = False
    else:
        kwargs.update(truncation=True, max_length=max_length)
    out = [None] * len(inputs)
    singles = [i for i, x in enumerate(inputs) if x.get("text_pair") is None]
    pairs = [i for i, x in enumerate(inputs) if x.get("text_pair") is not None]
    for indices, is_pair in ((singles, False), (pairs, True)):
        if not indices:
            continue
        texts = [inputs[i]["text"] for i in indices]
        if is_pair:
            enc = tok(texts, [inputs[i]["text_pair"] for i in indices], **kwargs)
        else:
            enc = tok(texts, **kwargs)
        keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
        columns = [enc[k] for k in keys]
        for row, i in enumerate(indices):
            out[i] = {k: column[row] for k, column in zip(keys, columns)}
    return out


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            request = json.load(f)
    else:
        request = json.load(sys.stdin)
    inputs = request["inputs"]
    jobs = request["jobs"]

    loaded = {}
    meta = {
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "python": sys.version.split()[0],
        "jobs": [],
    }
    for job in jobs:
        folder = job["tokenizer"]
        if folder not in loaded:
            loaded[folder] = AutoTokenizer.from_pretrained(folder)
        tok = loaded[folder]
        meta["jobs"].append({"tokenizer": folder, "class": type(tok).__name__, "model_input_names": list(tok.model_input_names)})

    lines = [json.dumps({"meta": meta})]
    untruncated = {}
    encoded = []
    for j, job in enumerate(jobs):
        start = job.get("start", 0)
        end = job.get("end", len(inputs))
        max_length = job.get("max_length")
        add_special_tokens = job.get("add_special_tokens", True)
        key = (job["tokenizer"], start, end, add_special_tokens)
        tok = loaded[job["tokenizer"]]
        if job.get("reuse_untruncated") and max_length is not None:
            if key not in untruncated:
                sys.exit(f"job {j}: reuse_untruncated needs an earlier job with max_length null over the same inputs")
            encodings = [dict(enc) for enc in untruncated[key]]
            longer = [i for i, enc in enumerate(encodings) if len(enc["input_ids"]) > max_length]
            for i, enc in zip(longer, encode(tok, [inputs[start + i] for i in longer], max_length, add_special_tokens)):
                encodings[i] = enc
            encoded.append(len(longer))
        else:
            encodings = encode(tok, inputs[start:end], max_length, add_special_tokens)
            encoded.append(len(encodings))
            if max_length is None:
                untruncated[key] = [dict(enc) for enc in encodings]
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        for offset, enc in enumerate(encodings):
            enc["job"] = j
            enc["index"] = start + offset
            lines.append(dumps(enc))
    lines.append(json.dumps({"encoded": encoded}))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
