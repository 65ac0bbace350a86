"""
Round trips between healbert and Hugging Face transformers, with transformers itself as the other side
(test/model/transformers-roundtrip.test.ts calls this with the pip-torch lane's python).

  load-and-run [--keep-going] <folder> <kind> [<folder> <kind> ...]
      Loads each folder with the matching AutoModelFor... class (kind: sequence-classification, masked-lm,
      pretraining or base), in eval mode, and runs its batch. stdin: a JSON list of batches, one per folder. Fails (exit 1)
      if transformers reports missing, unexpected or mismatched keys, or if the folder's config.json names
      another class than the one that loaded it: a folder that "loads" with re-initialised weights is a failure.
      With --keep-going, a folder that fails gets {"error": "..."} in its place and the rest still run.

  save <out> <variant> [<variant> ...]
      Builds small random models with transformers, moves every weight away from its initialisation and
      writes out/<variant> the way a user would (save_pretrained; a pickled pytorch_model.bin for the *-bin
      variants, as transformers 4 wrote with safe_serialization=False). stdin: a JSON object, variant -> batch.
      stdout: variant -> the outputs transformers computes for its batch.

A batch is {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids"?: [[...]], "mlm_labels"?: [[...]]}.
Outputs (JSON): "logits" (B x L, row-major, classification heads), "cls" (B x H: the final hidden state of the
first token, healbert's predict(..., {output: 'cls'})), and with mlm_labels "mlm": the masked-LM loss summed
over labelled positions, the number of argmax hits and of labelled positions (healbert's evaluateMlm);
load-and-run adds the class, num_labels and problem_type transformers read from config.json.
"""

import json
import os
import sys

import torch
import transformers
from transformers import (
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()
torch.set_num_threads(1)

KINDS = {
    "sequence-classification": AutoModelForSequenceClassification,
    "masked-lm": AutoModelForMaskedLM,
    "base": AutoModel,
    "pretraining": AutoModelForPreTraining,
}

# Small enough to run in milliseconds, with the 400-token vocabulary of test/fixtures/models/tiny-bert-sst2.
VOCAB = 400
BERT = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48,
            max_position_embeddings=64)
ROBERTA = dict(BERT, max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)
DISTILBERT = dict(vocab_size=VOCAB, dim=32, n_layers=2, n_heads=2, hidden_dim=48, max_position_embeddings=64)
LABELS3 = {0: "negative", 1: "neutral", 2: "positive"}

# variant -> (class, config, how it is written)
VARIANTS = {
    "bert-classification": (BertForSequenceClassification, BertConfig(**BERT, id2label=LABELS3,
                                                                      label2id={v: k for k, v in LABELS3.items()}), "safetensors"),
    "bert-regression": (BertForSequenceClassification, BertConfig(**BERT, num_labels=1, problem_type="regression"), "safetensors"),
    "bert-sharded": (BertForSequenceClassification, BertConfig(**BERT, num_labels=2), "sharded"),
    "roberta-classification": (RobertaForSequenceClassification, RobertaConfig(**ROBERTA, num_labels=2), "safetensors"),
    "distilbert-classification": (DistilBertForSequenceClassification, DistilBertConfig(**DISTILBERT, num_labels=2), "safetensors"),
    "bert-mlm-tied": (BertForMaskedLM, BertConfig(**BERT), "safetensors"),
    "bert-mlm-tied-sharded": (BertForMaskedLM, BertConfig(**BERT), "sharded"),
    "bert-mlm-untied": (BertForMaskedLM, BertConfig(**BERT, tie_word_embeddings=False), "safetensors"),
    "bert-classification-bin": (BertForSequenceClassification, BertConfig(**BERT, num_labels=2), "bin"),
    "bert-mlm-tied-bin": (BertForMaskedLM, BertConfig(**BERT), "bin"),
    "bert-classification-sharded-bin": (BertForSequenceClassification, BertConfig(**BERT, num_labels=2), "sharded-bin"),
}


def tensor(batch, key):
    return torch.tensor(batch[key], dtype=torch.long) if key in batch else None


@torch.no_grad()
def run(model, batch):
    inputs = {"input_ids": tensor(batch, "input_ids"), "attention_mask": tensor(batch, "attention_mask")}
    if "token_type_ids" in batch:
        inputs["token_type_ids"] = tensor(batch, "token_type_ids")
    out = model(**inputs, output_hidden_states=True)
    hidden = out.hidden_states[-1] if out.hidden_states is not None else out.last_hidden_state
    result = {"cls": hidden[:, 0].reshape(-1).tolist()}
    logits = getattr(out, "logits", None)
    if logits is not None and logits.dim() == 2:
        result["logits"] = logits.reshape(-1).tolist()
    if "mlm_labels" in batch:
        if logits is None or logits.dim() != 3:
            raise SystemExit("mlm_labels given, but the model has no masked-LM head")
        labels = tensor(batch, "mlm_labels").reshape(-1)
        picked = logits.reshape(-1, logits.size(-1))[labels != -100]
        targets = labels[labels != -100]
        loss = torch.nn.functional.cross_entropy(picked.double(), targets, reduction="sum")
        result["mlmLogits"] = picked.reshape(-1).tolist()
        result["mlm"] = {
            "lossSum": loss.item(),
            "correct": int((picked.argmax(-1) == targets).sum()),
            "count": int(targets.numel()),
        }
    return result


class LoadFailure(Exception):
    pass


def load_and_run(pairs, batches, keep_going):
    if len(batches) != len(pairs):
        raise SystemExit(f"{len(pairs)} folders but {len(batches)} batches")
    results = []
    for (folder, kind), batch in zip(pairs, batches):
        if kind not in KINDS:
            raise SystemExit(f"kind must be one of {', '.join(KINDS)}, got {kind}")
        try:
            results.append(load_and_run_one(folder, kind, batch))
        except LoadFailure as failure:
            if not keep_going:
                raise SystemExit(str(failure))
            results.append({"error": str(failure)})
    return results


def load_and_run_one(folder, kind, batch):
    # ignore_mismatched_sizes: a wrong shape is listed in the loading info (and fails below) instead of raising
    # an error whose details went to a suppressed log.
    model, info = KINDS[kind].from_pretrained(folder, output_loading_info=True, ignore_mismatched_sizes=True)
    problems = {k: sorted(map(str, v)) for k, v in info.items() if v}
    if problems:
        raise LoadFailure(f"{folder}: transformers loaded {type(model).__name__} with {json.dumps(problems)}")
    declared = (model.config.architectures or [None])[0]
    if kind != "base" and declared != type(model).__name__:
        raise LoadFailure(f"{folder}: config.json names {declared}, but {kind} loads {type(model).__name__}")
    model.eval()
    result = run(model, batch)
    result["class"] = type(model).__name__
    result["numLabels"] = model.config.num_labels
    result["problemType"] = model.config.problem_type
    return result


def move_off_init(model, seed):
    """Every weight gets noise: a parameter that healbert failed to load would then show in the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():  # each tied tensor once
            p.add_(torch.randn(p.shape, generator=g) * 0.05)


def save(out, names, batches):
    results = {}
    for i, name in enumerate(names):
        if name not in VARIANTS:
            raise SystemExit(f"unknown variant {name}; known: {', '.join(VARIANTS)}")
        cls, config, how = VARIANTS[name]
        torch.manual_seed(1000 + i)
        model = cls(config)
        move_off_init(model, 2000 + i)
        model.eval()
        folder = os.path.join(out, name)
        if how in ("bin", "sharded-bin"):
            # What transformers 4 wrote with safe_serialization=False (transformers 5 writes only safetensors):
            # the pickled state dict, tied tensors sharing storage; sharded, pytorch_model-0000k-of-0000n.bin
            # files and pytorch_model.bin.index.json.
            os.makedirs(folder, exist_ok=True)
            model.config.architectures = [type(model).__name__]
            model.config.save_pretrained(folder)
            state = model.state_dict()
            if how == "bin":
                torch.save(state, os.path.join(folder, "pytorch_model.bin"))
            else:
                keys = list(state)
                shards = [keys[: len(keys) // 2], keys[len(keys) // 2:]]
                weight_map = {}
                for k, shard in enumerate(shards):
                    file = f"pytorch_model-{k + 1:05d}-of-{len(shards):05d}.bin"
                    torch.save({key: state[key] for key in shard}, os.path.join(folder, file))
                    weight_map.update({key: file for key in shard})
                with open(os.path.join(folder, "pytorch_model.bin.index.json"), "w") as f:
                    json.dump({"metadata": {}, "weight_map": weight_map}, f)
        else:
            # 40KB: the 400 x 32 word embeddings (51KB) get a shard of their own, the rest spreads over several.
            model.save_pretrained(folder, **({"max_shard_size": "40KB"} if how == "sharded" else {}))
            if how == "sharded" and not os.path.exists(os.path.join(folder, "model.safetensors.index.json")):
                raise SystemExit(f"{folder}: save_pretrained did not shard")
        results[name] = run(model, batches[name])
    return results


def main(argv):
    if argv[:1] == ["load-and-run"]:
        keep_going = argv[1:2] == ["--keep-going"]
        rest = argv[2:] if keep_going else argv[1:]
        if not rest or len(rest) % 2:
            raise SystemExit(__doc__)
        print(json.dumps(load_and_run(list(zip(rest[::2], rest[1::2])), json.load(sys.stdin), keep_going)))
    elif len(argv) >= 3 and argv[0] == "save":
        print(json.dumps(save(argv[1], argv[2:], json.load(sys.stdin))))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
