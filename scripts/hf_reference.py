#!/usr/bin/env python3
"""The Hugging Face side of tests/it/hf_tokens.rs: what transformers makes of a model's text.

  hf_reference.py tokens  MODEL_DIR LINES FENCI_UNITS_JSONL
      Tokenizes LINES as transformers does (tokenizer.json as it is; a vocab.txt through
      BertTokenizerFast with tokenizer_config.json's settings, transformers' defaults otherwise;
      without transformers installed, the same pipeline built with the tokenizers library) and
      compares token ids and character offsets with fenci's (`fenci segment --units`).
  hf_reference.py tokenizer-json TOKENIZER_JSON LINES FENCI_UNITS_JSONL
      The same for a tokenizer.json file alone (`fenci export` writes one for its own models);
      also loads it with transformers' PreTrainedTokenizerFast where transformers is installed.
  hf_reference.py segment MODEL_DIR LINES FENCI_SEGMENTED
      Segments LINES with an independent reimplementation of BertForTokenClassification in
      numpy (from model.safetensors and config.json) over the HF tokens, and compares with
      fenci's output (`fenci segment --model MODEL_DIR`).

Each mode prints one summary line (`equal N/M ...`) and the first few differences; the exit
status is 0 unless the files cannot be read (the Rust test decides what agreement it needs).
Exit status 3: a Python package is missing.
"""

import json
import math
import os
import struct
import sys

try:
    import numpy as np
    import tokenizers
    from tokenizers import Tokenizer
except ImportError as e:  # pragma: no cover
    print(f"missing Python package: {e}", file=sys.stderr)
    sys.exit(3)

try:
    import transformers  # noqa: F401

    transformers.logging.set_verbosity_error()
    HAVE_TRANSFORMERS = True
except ImportError:
    HAVE_TRANSFORMERS = False


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def tokenizer_config(model_dir):
    path = os.path.join(model_dir, "tokenizer_config.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {}


class HfTokens:
    """encode(line) -> (ids, char offsets, word ids), special tokens left out."""

    def __init__(self, model_dir=None, tokenizer_json=None):
        self.fast = None
        if tokenizer_json is not None:
            self.tok = Tokenizer.from_file(tokenizer_json)
            if HAVE_TRANSFORMERS:
                from transformers import PreTrainedTokenizerFast

                self.fast = PreTrainedTokenizerFast(tokenizer_file=tokenizer_json)
            return
        tj = os.path.join(model_dir, "tokenizer.json")
        if os.path.isfile(tj):
            self.tok = Tokenizer.from_file(tj)
            if HAVE_TRANSFORMERS:
                from transformers import AutoTokenizer

                self.fast = AutoTokenizer.from_pretrained(model_dir)
            return
        cfg = tokenizer_config(model_dir)
        lower = cfg.get("do_lower_case", True)
        chinese = cfg.get("tokenize_chinese_chars", True)
        strip = cfg.get("strip_accents", None)
        vocab = os.path.join(model_dir, "vocab.txt")
        if HAVE_TRANSFORMERS:
            from transformers import BertTokenizerFast

            self.fast = BertTokenizerFast(
                vocab_file=vocab,
                do_lower_case=lower,
                tokenize_chinese_chars=chinese,
                strip_accents=strip,
            )
            self.tok = self.fast.backend_tokenizer
            return
        # transformers' BertConverter, spelled out.
        from tokenizers import models, normalizers, pre_tokenizers

        with open(vocab, encoding="utf-8") as f:
            v = {t.rstrip("\n"): i for i, t in enumerate(f)}
        self.tok = Tokenizer(
            models.WordPiece(v, unk_token="[UNK]", max_input_chars_per_word=100)
        )
        self.tok.normalizer = normalizers.BertNormalizer(
            clean_text=True,
            handle_chinese_chars=chinese,
            strip_accents=strip,
            lowercase=lower,
        )
        self.tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()

    def encode(self, line):
        if self.fast is not None:
            e = self.fast(line, add_special_tokens=False, return_offsets_mapping=True)
            ids = list(e["input_ids"])
            offs = [list(o) for o in e["offset_mapping"]]
            words = e.word_ids()
            return ids, offs, words
        e = self.tok.encode(line, add_special_tokens=False)
        return list(e.ids), [list(o) for o in e.offsets], list(e.word_ids)


def compare_tokens(hf, lines, fenci_path):
    fenci = [json.loads(l) for l in read_lines(fenci_path)]
    if len(fenci) != len(lines):
        print(f"fenci gave {len(fenci)} lines for {len(lines)}")
        return
    ids_eq = offs_eq = 0
    shown = 0
    for line, f in zip(lines, fenci):
        ids, offs, _ = hf.encode(line)
        a = f["ids"] == ids
        b = [list(o) for o in f["offsets"]] == offs
        ids_eq += a
        offs_eq += b
        if not (a and b) and shown < 5:
            shown += 1
            print(f"differs: {line!r}\n  hf    {ids} {offs}\n  fenci {f['ids']} {f['offsets']}")
    n = len(lines)
    print(f"equal ids {ids_eq}/{n} offsets {offs_eq}/{n}")


# ---- BertForTokenClassification in numpy ---------------------------------------------------

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        s, e = meta["data_offsets"]
        raw = data[base + s : base + e]
        if meta["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[meta["dtype"]])
        out[name] = arr.astype(np.float64).reshape(meta["shape"])
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def activation(name):
    if name == "gelu":
        erf = np.vectorize(math.erf)
        return lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    raise SystemExit(f"activation {name} not in this reference")


class NumpyBert:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            self.cfg = json.load(f)
        t = read_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.t = {k[len("bert.") :] if k.startswith("bert.") else k: v for k, v in t.items()}
        self.eps = self.cfg.get("layer_norm_eps", 1e-12)
        self.act = activation(self.cfg.get("hidden_act", "gelu"))
        self.heads = self.cfg["num_attention_heads"]
        self.layers = self.cfg["num_hidden_layers"]
        id2label = self.cfg["id2label"]
        self.labels = [id2label[str(i)] for i in range(len(id2label))]

    def lin(self, x, name):
        return x @ self.t[name + ".weight"].T + self.t[name + ".bias"]

    def ln(self, x, name):
        w = self.t.get(name + ".weight", self.t.get(name + ".gamma"))
        b = self.t.get(name + ".bias", self.t.get(name + ".beta"))
        return layer_norm(x, w, b, self.eps)

    def logits(self, ids):
        t = self.t
        n = len(ids)
        x = (
            t["embeddings.word_embeddings.weight"][ids]
            + t["embeddings.position_embeddings.weight"][:n]
            + t["embeddings.token_type_embeddings.weight"][0]
        )
        x = self.ln(x, "embeddings.LayerNorm")
        mask = np.zeros((1, 1, n))  # every position attends (no padding)
        h = self.heads
        d = x.shape[-1] // h
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = self.lin(x, p + "attention.self.query").reshape(n, h, d).transpose(1, 0, 2)
            k = self.lin(x, p + "attention.self.key").reshape(n, h, d).transpose(1, 0, 2)
            v = self.lin(x, p + "attention.self.value").reshape(n, h, d).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(d) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s = s / s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(n, h * d)
            a = self.ln(self.lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            m = self.act(self.lin(a, p + "intermediate.dense"))
            x = self.ln(self.lin(m, p + "output.dense") + a, p + "output.LayerNorm")
        return self.lin(x, "classifier")


def starts_word(label):
    return label in ("B", "S")


def allowed(labels, a, b):
    if set(labels) <= {"B", "I"}:
        return True
    if a in ("B", "M", "I"):
        return b in ("M", "E", "I")
    return b in ("B", "S")


def viterbi(logp, labels, forced, forbidden):
    """Best label path over log-probabilities under the label set's transitions (BMES: B/M →
    M/E, E/S → B/S, start B/S, end E/S) and the boundary constraints."""
    n, L = logp.shape
    bmes = not set(labels) <= {"B", "I"}
    def ok(i, y):
        lab = labels[y]
        if i == 0 and not starts_word(lab):
            return False
        if i == n - 1 and bmes and lab not in ("E", "S"):
            return False
        if forced[i] and not starts_word(lab):
            return False
        if forbidden[i] and starts_word(lab):
            return False
        return True
    score = np.full((n, L), -np.inf)
    back = np.zeros((n, L), dtype=int)
    for y in range(L):
        if ok(0, y):
            score[0, y] = logp[0, y]
    for i in range(1, n):
        for y in range(L):
            if not ok(i, y):
                continue
            best, arg = -np.inf, 0
            for p in range(L):
                if allowed(labels, labels[p], labels[y]) and score[i - 1, p] > best:
                    best, arg = score[i - 1, p], p
            score[i, y] = best + logp[i, y]
            back[i, y] = arg
    y = int(np.argmax(score[-1]))
    path = [y]
    for i in range(n - 1, 0, -1):
        y = back[i, y]
        path.append(int(y))
    return path[::-1]


def segment_line(bert, hf, line, cls, sep):
    ids, offs, words = hf.encode(line)
    if not ids:
        return ""
    logits = bert.logits([cls] + ids + [sep])[1:-1]
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    n = len(ids)
    forced = [False] * n
    forbidden = [False] * n
    for i in range(1, n):
        gap = offs[i - 1][1] < offs[i][0]  # whitespace (or dropped characters) between
        if gap:
            forced[i] = True
        elif words[i] is not None and words[i] == words[i - 1]:
            # A WordPiece word is never cut.
            forbidden[i] = True
    path = viterbi(logp, bert.labels, forced, forbidden)
    out = []
    for i, y in enumerate(path):
        piece = line[offs[i][0] : offs[i][1]]
        if i == 0 or starts_word(bert.labels[y]):
            out.append(piece)
        else:
            out[-1] += line[offs[i - 1][1] : offs[i][0]] + piece
    return " ".join(out)


def compare_segments(model_dir, lines, fenci_path):
    hf = HfTokens(model_dir)
    bert = NumpyBert(model_dir)
    cls = hf.tok.token_to_id("[CLS]")
    sep = hf.tok.token_to_id("[SEP]")
    fenci = read_lines(fenci_path)
    if len(fenci) != len(lines):
        print(f"fenci gave {len(fenci)} lines for {len(lines)}")
        return
    eq = 0
    shown = 0
    for line, f in zip(lines, fenci):
        ref = segment_line(bert, hf, line, cls, sep)
        if ref == f:
            eq += 1
        elif shown < 3:
            shown += 1
            print(f"differs: {line!r}\n  reference {ref!r}\n  fenci     {f!r}")
    print(f"equal segmentations {eq}/{len(lines)} labels {''.join(bert.labels)}")


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode, src, lines_path, fenci_path = sys.argv[1:]
    lines = read_lines(lines_path)
    print(
        f"tokenizers {tokenizers.__version__}, numpy {np.__version__}, "
        f"transformers {transformers.__version__ if HAVE_TRANSFORMERS else 'not installed'}"
    )
    if mode == "tokens":
        compare_tokens(HfTokens(src), lines, fenci_path)
    elif mode == "tokenizer-json":
        compare_tokens(HfTokens(tokenizer_json=src), lines, fenci_path)
    elif mode == "segment":
        compare_segments(src, lines, fenci_path)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
