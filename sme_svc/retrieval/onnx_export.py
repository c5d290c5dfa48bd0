"""The int8 ONNX export of a sentence-transformers BERT model (all-MiniLM-L6-v2), built locally from the
model's own weights: nothing is downloaded.

The recipe (chosen by measurement, docs/performance.md "Ingestion"): the transformer body with eager attention
(so that onnxruntime's BERT optimizer recognises and fuses it), mean pooling over the attention mask and L2
normalisation inside the graph, exported by torch.onnx (opset 17, dynamic batch and sequence axes); fused by
onnxruntime.transformers' BERT optimizer; then dynamically quantized (int8 weights, per channel). The result
is checked against sentence-transformers before it is published. Change RECIPE with the recipe: it is part of the
encoder id that stored embeddings are stamped with, so embeddings of an older recipe are never mixed in.

Where it lives: `<model>/onnx/<file>` when that exists (an image may build it there at build time with
`python -m sme_svc.retrieval.onnx_export --next-to-model`), else `<cache dir>/<model fingerprint>/<file>`,
built on first use. Builders take a file lock, build into a temporary file and rename it into place, so two
processes starting at once build once, and a reader never sees half a file.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

RECIPE = "onnx-int8-r1"
EXPORT_FILE = f"model-{RECIPE}.onnx"
OPSET = 17
MIN_PROBE_COSINE = 0.97  # every probe sentence; the export measured 0.98 at its worst on 2,145 sentences
_PROBES = [
    "A variable names a value so that a program can use it later.",
    "The standard deviation is the square root of the variance.",
    "for i in range(10): print(i)",
    "Lists are mutable sequences; tuples are immutable ones, and both can be sliced.",
    "x",
]
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/learning-middleware/encoders`, or under `~/.cache` (HOME is writable in the images)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "learning-middleware" / "encoders"


def fingerprint(model_path: Path) -> str:
    """A short digest of the model's config and weights: a cached export belongs to exactly these."""
    digest = hashlib.sha256()
    for name in ("config.json", *_WEIGHT_FILES):
        path = model_path / name
        if path.exists():
            digest.update(name.encode())
            with path.open("rb") as data:
                for block in iter(lambda: data.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def export_path(model_path: Path, cache_dir: Path | None) -> Path:
    """Where the export of this model is read from (it may not exist yet)."""
    beside = model_path / "onnx" / EXPORT_FILE
    if beside.exists():
        return beside
    return (cache_dir or default_cache_dir()) / f"{model_path.name}-{fingerprint(model_path)}" / EXPORT_FILE


def ensure_export(model_path: Path, cache_dir: Path | None = None) -> Path:
    """The path of a complete export of the model, building it first if there is none (blocking, ~10-60 s)."""
    target = export_path(model_path, cache_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.with_name(target.name + ".lock")):
        if not target.exists():  # another process may have built it while we waited for the lock
            build(model_path, target)
    return target


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(model_path: Path, target: Path) -> None:
    """Export, fuse, quantize and check the model, then publish it at `target` atomically."""
    started = time.perf_counter()
    log.info("building the int8 ONNX export of %s into %s", model_path, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        scratch_dir = Path(scratch)
        config = _export(model_path, scratch_dir / "fp32.onnx")
        _fuse(scratch_dir / "fp32.onnx", scratch_dir / "fused.onnx", config)
        _quantize(scratch_dir / "fused.onnx", scratch_dir / "int8.onnx")
        _check(model_path, scratch_dir / "int8.onnx")
        os.replace(scratch_dir / "int8.onnx", target)
    log.info("ONNX export ready in %.1f s: %s", time.perf_counter() - started, target)


def _export(model_path: Path, out: Path):
    import torch
    from transformers import AutoModel

    body = AutoModel.from_pretrained(str(model_path), attn_implementation="eager", local_files_only=True)
    model = _pooled_encoder(body.eval())
    ids = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants: all checked
        torch.onnx.export(
            model,
            (ids, ids, torch.zeros_like(ids)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: the new one needs onnxscript and was not measured
        )
    return body.config


def _pooled_encoder(body):
    """Built inside a function so that importing this module needs no torch."""
    import torch

    class PooledEncoder(torch.nn.Module):
        """The BERT body, mean pooling over the real tokens, L2 normalisation: sentence-transformers' three
        modules of all-MiniLM-L6-v2 in one graph."""

        def __init__(self) -> None:
            super().__init__()
            self.body = body

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.body(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return PooledEncoder()


def _fuse(source: Path, out: Path, config) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(source),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=1,
    )
    fused.save_model_to_file(str(out))


def _quantize(source: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        # The fused operators (Attention, SkipLayerNormalization) are outside ONNX's shape inference.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _check(model_path: Path, exported: Path) -> None:
    """Refuse to publish an export whose embeddings stray from sentence-transformers' (a broken export would
    otherwise index whole courses with wrong vectors)."""
    import numpy as np
    import onnxruntime as ort
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    reference = SentenceTransformer(str(model_path), device="cpu", local_files_only=True).encode(
        _PROBES, normalize_embeddings=True, show_progress_bar=False
    )
    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tokenizer.enable_padding()
    encoded = tokenizer.encode_batch(_PROBES)
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    ours = session.run(
        None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    )[0]
    cosines = (ours * reference).sum(axis=1)
    if float(cosines.min()) < MIN_PROBE_COSINE:
        raise RuntimeError(
            f"the ONNX export strays from sentence-transformers (cosine {cosines.min():.3f} on a probe "
            "sentence); set SME_ENCODER=torch and report this"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sme_svc.retrieval.onnx_export",
        description="Build the int8 ONNX export of the embedding model (e.g. at image build time).",
    )
    parser.add_argument("--model", type=Path, help="model directory (default: the packaged all-MiniLM-L6-v2)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--next-to-model", action="store_true", help="write <model>/onnx/" + EXPORT_FILE)
    where.add_argument("--cache-dir", type=Path, help="the cache directory (default: %(default)s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from sme_svc.retrieval.embedder import default_model_path

    model_path = args.model or default_model_path()
    if args.next_to_model:
        target = model_path / "onnx" / EXPORT_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target.with_name(target.name + ".lock")):
            build(model_path, target)
    else:
        target = ensure_export(model_path, args.cache_dir)
    print(target)


if __name__ == "__main__":
    main()
