"""How the int8 ONNX encoder's settings were chosen: each setting varied alone from the default
(sme_svc.retrieval.embedder), timed on the same chunk texts, in rounds.

    .venv/bin/python scripts/bench/encoder.py [--corpus DIR] [--texts 300] [--rounds 3] [--json FILE]

Settings: onnxruntime's graph optimisation level (basic, extended, all), intra-op threads (1 to the cores),
idle threads spinning or sleeping, texts per batch, and texts sorted by length or not. The texts are the
chunks the service would embed from DIR (default: the openstax corpus in ../shared/eval when present, else the
sample course). Every variant runs once per round right after the default; its speed is the default's seconds
over its own in that round, and the median of the rounds is printed with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
from common import OPENSTAX_CORPUS, SAMPLE_COURSE, corpus_documents, print_table, write_json

from lmw_common.filetypes import detect_media_type
from sme_svc.ingest.chunking import chunk_sections, text_for_embedding
from sme_svc.ingest.parsing import parse
from sme_svc.retrieval.embedder import CPU_BATCH, default_model_path, default_threads
from sme_svc.retrieval.onnx_export import ensure_export


@dataclass(frozen=True)
class Setting:
    level: str = "extended"
    threads: int = default_threads(None)
    spinning: bool = False
    batch: int = CPU_BATCH["onnx-int8"]
    sorted_by_length: bool = True

    def label(self) -> str:
        return (
            f"level={self.level} threads={self.threads} spinning={'on' if self.spinning else 'off'} "
            f"batch={self.batch} sorted={'yes' if self.sorted_by_length else 'no'}"
        )


def variants(default: Setting) -> list[Setting]:
    cores = default_threads(None)
    return [
        *(replace(default, level=level) for level in ("basic", "extended", "all") if level != default.level),
        *(replace(default, threads=n) for n in sorted({1, cores}) if n != default.threads),
        replace(default, spinning=not default.spinning),
        *(replace(default, batch=n) for n in (8, 16, 32, 64) if n != default.batch),
        replace(default, sorted_by_length=not default.sorted_by_length),
    ]


class Runner:
    """The export on one onnxruntime session per (level, threads, spinning), tokenized as the service does."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        self.model_path = default_model_path()
        self.exported = ensure_export(self.model_path)
        self.tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()
        self.sessions: dict[tuple, object] = {}

    def session(self, setting: Setting):
        import onnxruntime as ort

        key = (setting.level, setting.threads, setting.spinning)
        if key not in self.sessions:
            options = ort.SessionOptions()
            options.graph_optimization_level = {
                "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
            }[setting.level]
            options.intra_op_num_threads = setting.threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry(
                "session.intra_op.allow_spinning", "1" if setting.spinning else "0"
            )
            self.sessions[key] = ort.InferenceSession(
                str(self.exported), options, providers=["CPUExecutionProvider"]
            )
        return self.sessions[key]

    def seconds(self, setting: Setting, texts: list[str]) -> float:
        session = self.session(setting)
        order = np.argsort([len(t) for t in texts]) if setting.sorted_by_length else np.arange(len(texts))
        started = time.perf_counter()
        for start in range(0, len(order), setting.batch):
            encoded = self.tokenizer.encode_batch([texts[i] for i in order[start : start + setting.batch]])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
        return time.perf_counter() - started


def chunk_texts(corpus, limit: int) -> list[str]:
    texts: list[str] = []
    for number, path in enumerate(corpus_documents(corpus)):
        data = path.read_bytes()
        sections = parse(data, detect_media_type(data, path.name))
        chunks = chunk_sections(
            sections, course_id="c", file_id=str(number), file_name=path.name, file_sha256=""
        )
        texts += [text_for_embedding(chunk) for chunk in chunks]
    return texts[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", default=OPENSTAX_CORPUS if OPENSTAX_CORPUS.is_dir() else SAMPLE_COURSE)
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()

    runner, default = Runner(), Setting()
    texts = chunk_texts(args.corpus, args.texts)
    others = variants(default)
    for setting in [default, *others]:  # warm every session up once
        runner.seconds(setting, texts[:8])
    load_start = [round(x, 2) for x in os.getloadavg()]
    speeds: dict[Setting, list[float]] = {setting: [] for setting in others}
    base_seconds: list[float] = []
    for number in range(args.rounds):
        for setting in others:
            base = runner.seconds(default, texts)
            base_seconds.append(base)
            speeds[setting].append(base / runner.seconds(setting, texts))
        print(f"round {number + 1} of {args.rounds} done", flush=True)
    load_end = [round(x, 2) for x in os.getloadavg()]
    rows = [[default.label(), "1.00 (the default)", f"{len(texts) / statistics.median(base_seconds):.0f}"]]
    rows += [
        [s.label(), f"{statistics.median(v):.2f} [" + ", ".join(f"{x:.2f}" for x in v) + "]", ""]
        for s, v in speeds.items()
    ]
    print(
        f"\n{len(texts)} chunk texts of {args.corpus}; load average {load_start} at start, {load_end} at end"
    )
    print_table(["setting", "speed vs default (rounds)", "texts/s"], rows)
    write_json(
        args.json_path,
        {
            "texts": len(texts),
            "load_average_start": load_start,
            "load_average_end": load_end,
            "default": asdict(default),
            "default_texts_per_s": len(texts) / statistics.median(base_seconds),
            "variants": [
                {"setting": asdict(s), "speed": statistics.median(v), "per_round": v}
                for s, v in speeds.items()
            ],
        },
    )


if __name__ == "__main__":
    main()
