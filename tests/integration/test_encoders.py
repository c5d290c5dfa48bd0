"""The encoders of sme_svc.retrieval.embedder: the int8 ONNX export agrees with sentence-transformers, is built
once when two processes start together, and each encoder stamps its vectors with an id of its own.

The export is built once for this module, into a fresh cache directory, by two processes at once.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from sme_svc.retrieval.embedder import Embedder, default_model_path
from sme_svc.retrieval.onnx_export import EXPORT_FILE

SAMPLE_COURSE = Path(__file__).resolve().parents[2] / "scripts" / "sample_course"


def sample_sentences(count: int) -> list[str]:
    """A fixed set: the first `count` sentences of the sample course's Markdown, from 1 word to a paragraph."""
    sentences: list[str] = []
    for path in sorted(SAMPLE_COURSE.glob("*.md")):
        for paragraph in re.split(r"\n\s*\n", path.read_text()):
            text = " ".join(paragraph.replace("#", " ").split())
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    return sentences[:count]


class Build(NamedTuple):
    cache_dir: Path
    printed: set[str]  # the export path each process printed
    builds: int  # how many of them built it


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    """Two processes started together on an empty cache directory, each wanting the export."""
    cache = tmp_path_factory.mktemp("encoders")
    command = [sys.executable, "-m", "sme_svc.retrieval.onnx_export", "--cache-dir", str(cache)]
    builders = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [builder.communicate(timeout=600) for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0], outputs
    logs = "".join(stderr for _, stderr in outputs)
    return Build(
        cache, {stdout.strip() for stdout, _ in outputs}, logs.count("building the int8 ONNX export")
    )


@pytest.fixture(scope="module")
def export_dir(build: Build) -> Path:
    return build.cache_dir


def test_two_processes_starting_together_build_the_export_once(build: Build) -> None:
    built = list(build.cache_dir.rglob("*.onnx"))
    assert [path.name for path in built] == [EXPORT_FILE]
    assert build.printed == {str(built[0])}  # both use the same, whole file
    assert build.builds == 1  # the second waited for the first one's file
    assert not [path for path in build.cache_dir.rglob("*") if path.name.startswith(".build-")]


def test_the_int8_encoder_agrees_with_sentence_transformers(export_dir: Path) -> None:
    sentences = sample_sentences(100)
    assert len(sentences) == 100 and min(map(len, sentences)) < 20 < 150 < max(map(len, sentences))
    quantized = Embedder(encoder="onnx-int8", cache_dir=export_dir).encode(sentences)
    reference = Embedder(encoder="torch", device="cpu").encode(sentences)
    assert quantized.shape == reference.shape == (100, 384)
    assert quantized.dtype == np.float32
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-4)
    cosines = (quantized * reference).sum(axis=1)
    assert cosines.mean() > 0.99
    assert cosines.min() > 0.97


def test_embeddings_come_back_in_the_order_given_whatever_the_batching(export_dir: Path) -> None:
    """Texts are sorted by length into batches inside `encode`; each row must still be its own text's."""
    sentences = sample_sentences(40)[::-1]
    embedder = Embedder(encoder="onnx-int8", cache_dir=export_dir, batch_size=4)
    together = embedder.encode(sentences)
    alone = np.concatenate([embedder.encode([sentence]) for sentence in sentences])
    similarity = together @ alone.T
    assert list(similarity.argmax(axis=1)) == list(range(len(sentences)))
    # int8 activations are scaled per batch (its padding included), so a text's vector moves a little with its
    # batch: as far as from the torch reference, and nowhere near another text's.
    assert np.diag(similarity).min() > 0.98


def test_each_encoder_and_model_stamps_an_id_of_its_own(export_dir: Path) -> None:
    onnx = Embedder(encoder="onnx-int8", cache_dir=export_dir)
    torch = Embedder(encoder="torch", device="cpu")
    assert onnx.encoder_id != torch.encoder_id
    assert onnx.encoder_id.startswith("sentence-transformers/all-MiniLM-L6-v2@")
    assert onnx.encoder_id.split("/")[-1] == "onnx-int8-r1"
    assert Embedder(default_model_path(), encoder="torch", device="cpu").encoder_id == torch.encoder_id


def test_auto_picks_the_int8_encoder_on_a_machine_without_a_gpu(export_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: auto picks torch there")
    embedder = Embedder(cache_dir=export_dir)
    assert embedder.encoder_id.endswith("/onnx-int8-r1")
    assert embedder.device == "cpu"
