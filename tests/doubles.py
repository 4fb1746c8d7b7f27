"""Small deterministic test doubles for stages that do not depend on the real model."""
from __future__ import annotations

import hashlib

import numpy as np


class BigramEmbedder:
    """A deterministic test double: each CJK/word character bigram adds a fixed random direction.

    Texts that share wording get close vectors, so retrieval through it is meaningful, and no
    model is loaded.
    """

    name = "test-bigram"
    fingerprint = "bigram-v1"
    dim = 64

    def __init__(self):
        self.passages = 0

    def encode_queries(self, texts):
        return self._encode(texts)

    def encode_passages(self, texts, batch_size=16):
        self.passages += len(texts)
        return self._encode(texts)

    def _encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for a, b in zip(text, text[1:]):
                seed = int.from_bytes(hashlib.sha256((a + b).encode()).digest()[:4], "little")
                out[i] += np.random.default_rng(seed).standard_normal(self.dim)
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out
