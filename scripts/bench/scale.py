"""Retrieval at scale: FAISS latency and memory as a course grows, and sme_svc memory with many courses.

    .venv/bin/python scripts/bench/scale.py [--sizes 10000,100000,1000000] [--queries 200] [--courses 64]
        [--chunks-per-course 2000] [--lru 8] [--max-build-s 900] [--noise 0.75] [--json FILE] [--quick]

Part 1, one course growing to each of `--sizes` chunks (`--quick`: 10k and 100k only). The vectors are
synthetic, 384-d and CLUSTERED: 1,000 normalized Gaussian centres, each vector = centre + isotropic noise of
norm `--noise` (relative to the centre), normalized again, so a vector's cosine to its centre is about 0.8 and
the nearest neighbours of a query are at cosine ~0.7, as with sentence embeddings. Uniform random vectors are
NOT used: in 384-d they are the known worst case for HNSW (every point is about equally far from every other).
The queries are drawn the same way, independently of the indexed vectors (the same queries for every size).
Both index kinds are built exactly as the project builds them, `build_cpu_index(embeddings, threshold)` with a
huge threshold (exact, IndexFlatIP) or 0 (approximate, HNSW M=32, efConstruction=64, efSearch=64), and
searched through the project's `VectorIndex.search` (one query, k=10). Each build runs in a fresh child
process, so memory figures don't mix and a build that exceeds `--max-build-s` is killed and reported as
skipped, never left hanging. Per size and kind:
- build: seconds of `build_cpu_index` (data already in memory);
- index MiB: `len(faiss.serialize_index(index))`, and the process RSS growth across the build;
- single-query latency p50/p95/p99 in ms over `--queries` queries (after 5 warm-up queries), with faiss's
  default OpenMP threads (as the service runs today) and again with `faiss.omp_set_num_threads(1)` ("1thr"):
  on a busy 2-core machine an OpenMP team waiting for a core can cost tens of ms per exact query;
- batched throughput: all queries in one faiss `search` call, queries/s (best of up to 3 runs);
- recall@10 of the approximate index against the exact one, whose results in the same run are the truth.
The ratio table gives approx/exact for latency and throughput at each size.

Part 2, sme_svc memory with many courses loaded: the real `Retriever` over `--courses` synthetic courses of
`--chunks-per-course` chunks (text from a Zipf-distributed vocabulary, clustered embeddings), served by a
ChunkSource that builds each course on demand (so it holds nothing itself) and a query encoder that returns
a fixed normalized vector (no model). Each course is retrieved from (hybrid, k=5) in turn, twice round-robin,
and the process RSS is sampled after each retrieve; once with `max_loaded_courses=--lru` and once with an LRU
as large as the number of courses, each in its own fresh child process. A bounded LRU must level off.

Timings are from whatever machine runs this; compare ratios within one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import faiss
import numpy as np
import psutil
from common import print_table, write_json

from sme_svc.domain import Chunk, Method, StoredCourse
from sme_svc.retrieval.index import DEFAULT_HNSW_THRESHOLD, HNSW_EF_SEARCH, VectorIndex, build_cpu_index
from sme_svc.retrieval.retriever import Retriever

DIMENSION = 384
CLUSTERS = 1_000
K = 10
WARMUP_QUERIES = 5
EXACT_THRESHOLD = 1 << 62  # never reached: always IndexFlatIP
APPROX_THRESHOLD = 0  # always HNSW
KINDS = {"exact": EXACT_THRESHOLD, "approx": APPROX_THRESHOLD}
QUICK_SIZES = [10_000, 100_000]
BLOCK = 65_536
MB = 1024 * 1024  # MiB, as printed


# ------------------------------------------------------------------ synthetic data


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def cluster_centres(seed: int, count: int = CLUSTERS) -> np.ndarray:
    rng = np.random.default_rng([seed, 0])
    return unit_rows(rng.standard_normal((count, DIMENSION), dtype=np.float32))


def clustered_vectors(rng: np.random.Generator, centres: np.ndarray, count: int, noise: float) -> np.ndarray:
    """`count` unit vectors, each a random centre plus isotropic Gaussian noise of expected norm `noise`."""
    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    vectors *= np.float32(noise / math.sqrt(DIMENSION))
    vectors += centres[rng.integers(0, len(centres), count)]
    return unit_rows(vectors)


def write_dataset(directory: Path, size: int, queries: int, noise: float, seed: int) -> None:
    """DIR/data.npy (size x 384 float32, written block by block) and DIR/queries.npy."""
    centres = cluster_centres(seed)
    data = np.lib.format.open_memmap(
        directory / "data.npy", mode="w+", dtype=np.float32, shape=(size, DIMENSION)
    )
    rng = np.random.default_rng([seed, 1, size])
    for start in range(0, size, BLOCK):
        stop = min(start + BLOCK, size)
        data[start:stop] = clustered_vectors(rng, centres, stop - start, noise)
    data.flush()
    del data
    query_rng = np.random.default_rng([seed, 2])  # the same queries for every size
    np.save(directory / "queries.npy", clustered_vectors(query_rng, centres, queries, noise))


# ------------------------------------------------------------------ part 1: one index (child process)


def rss() -> int:
    return psutil.Process().memory_info().rss


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def single_query_latencies(index: VectorIndex, queries: np.ndarray) -> list[float]:
    for query in queries[:WARMUP_QUERIES]:
        index.search(query, K)
    latencies_ms = []
    for query in queries:
        start_ns = time.perf_counter_ns()
        index.search(query, K)
        latencies_ms.append((time.perf_counter_ns() - start_ns) / 1e6)
    return latencies_ms


def latency_summary(latencies_ms: list[float]) -> dict[str, float]:
    summary = {f"p{q}": percentile(latencies_ms, q) for q in (50, 95, 99)}
    return {**summary, "mean": float(np.mean(latencies_ms))}


def index_child(kind: str, directory: Path) -> None:
    """Build one index from DIR's data and measure it; talks to the parent in `ready`/`built`/`result` lines."""
    data = np.load(directory / "data.npy")
    queries = np.load(directory / "queries.npy")
    gc.collect()
    before = rss()
    print("ready", flush=True)
    start = time.perf_counter()
    cpu_index = build_cpu_index(data, KINDS[kind])
    build_s = time.perf_counter() - start
    rss_delta = rss() - before
    print("built", json.dumps({"build_s": build_s}), flush=True)
    index_bytes = len(faiss.serialize_index(cpu_index))
    gc.collect()

    index = VectorIndex(cpu_index, use_gpu=False)
    assert index.exact == (kind == "exact"), index.kind
    latencies_ms = single_query_latencies(index, queries)
    default_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # the same queries with faiss's OpenMP limited to the calling thread
    latencies_1_thread_ms = single_query_latencies(index, queries)
    faiss.omp_set_num_threads(default_threads)

    batch_s = math.inf
    for _ in range(3):  # all queries in one call, as a batch endpoint would
        start = time.perf_counter()
        _, positions = cpu_index.search(queries, K)
        batch_s = min(batch_s, time.perf_counter() - start)
        if batch_s * 3 > 20:
            break
    result = {
        "kind": kind,
        "faiss_kind": index.kind,
        "build_s": build_s,
        "index_bytes": index_bytes,
        "bytes_per_vector": index_bytes / len(data),
        "rss_delta_bytes": rss_delta,
        "latency_ms": latency_summary(latencies_ms),
        "latency_1_thread_ms": latency_summary(latencies_1_thread_ms),
        "batch_qps": len(queries) / batch_s,
        "positions": positions.tolist(),
    }
    print("result", json.dumps(result), flush=True)


class Child:
    """A child process of this script whose stdout lines arrive on a queue, so waits can have deadlines."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *args], stdout=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, tag: str, timeout: float) -> str:
        """The payload of the next line starting with `tag`; TimeoutError past `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise TimeoutError(f"no '{tag}' from the child within {timeout:.0f} s") from None
            if line is None:
                raise RuntimeError(f"child exited (rc {self.process.wait()}) before '{tag}'")
            if line.split(" ", 1)[0] == tag:
                return line.split(" ", 1)[1] if " " in line else ""
            print(line)  # anything else the child prints

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def measure_index(kind: str, directory: Path, max_build_s: float) -> dict:
    child = Child("--_index-child", kind, str(directory))
    try:
        child.expect("ready", timeout=900)
        try:
            child.expect("built", timeout=max_build_s)
        except TimeoutError:
            return {"kind": kind, "skipped": f"build exceeded --max-build-s {max_build_s:.0f} s (killed)"}
        return json.loads(child.expect("result", timeout=1800))
    finally:
        child.kill()


def recall_at_k(truth: list[list[int]], found: list[list[int]]) -> float:
    hits = [len(set(t[:K]) & set(f[:K])) / K for t, f in zip(truth, found, strict=True)]
    return float(np.mean(hits))


def predicted_build_s(history: list[tuple[int, float]], size: int) -> float | None:
    """HNSW build time extrapolated as n log n from the largest size built so far."""
    if not history:
        return None
    n, seconds = max(history)
    return seconds * (size / n) * (math.log(size) / math.log(n))


def index_scale(sizes: list[int], queries: int, noise: float, seed: int, max_build_s: float) -> list[dict]:
    rows: list[dict] = []
    approx_history: list[tuple[int, float]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="lmw-scale-") as tmp:
            start = time.perf_counter()
            write_dataset(Path(tmp), size, queries, noise, seed)
            print(f"\n{size:,} vectors: data generated in {time.perf_counter() - start:.1f} s", flush=True)
            truth = None
            for kind in KINDS:
                figures = measure_index(kind, Path(tmp), max_build_s)
                figures["size"] = size
                figures["production_kind"] = "exact" if size < DEFAULT_HNSW_THRESHOLD else "approx"
                positions = figures.pop("positions", None)
                if "skipped" in figures:
                    guess = predicted_build_s(approx_history, size) if kind == "approx" else None
                    if guess is not None:
                        figures["skipped"] += f"; n log n extrapolation from smaller sizes: ~{guess:.0f} s"
                    print(f"  {kind}: SKIPPED, {figures['skipped']}", flush=True)
                elif kind == "exact":
                    truth = positions
                    figures["recall@10"] = 1.0  # the baseline, by definition
                else:
                    approx_history.append((size, figures["build_s"]))
                    figures["recall@10"] = recall_at_k(truth, positions) if truth is not None else None
                if "skipped" not in figures:
                    print(
                        f"  {kind}: build {figures['build_s']:.1f} s,"
                        f" p50 {figures['latency_ms']['p50']:.3f} ms, {figures['batch_qps']:.0f} q/s",
                        flush=True,
                    )
                rows.append(figures)
    return rows


def index_comparisons(rows: list[dict]) -> list[dict]:
    """approx/exact per size, where both ran."""
    by_key = {(row["size"], row["kind"]): row for row in rows if "skipped" not in row}
    out = []
    for size in sorted({row["size"] for row in rows}):
        exact, approx = by_key.get((size, "exact")), by_key.get((size, "approx"))
        if exact is None or approx is None:
            continue
        latency = (approx["latency_ms"], exact["latency_ms"])
        ratio = {f"{p}_latency_ratio": latency[0][p] / latency[1][p] for p in ("p50", "p95", "p99")}
        ratio["p50_1_thread_latency_ratio"] = (
            approx["latency_1_thread_ms"]["p50"] / exact["latency_1_thread_ms"]["p50"]
        )
        ratio["batch_qps_ratio"] = approx["batch_qps"] / exact["batch_qps"]
        ratio["index_bytes_ratio"] = approx["index_bytes"] / exact["index_bytes"]
        ratio["build_s_ratio"] = approx["build_s"] / max(exact["build_s"], 1e-9)
        out.append({"size": size, **ratio, "recall@10": approx["recall@10"]})
    return out


def print_index_tables(rows: list[dict], comparisons: list[dict]) -> None:
    headers = ["chunks", "index", "prod uses", "build s", "index MiB", "RSS +MiB", "p50 ms", "p95 ms"]
    headers += ["p99 ms", "p50 1thr", "p99 1thr", "batch q/s", "recall@10"]
    skipped = ["-"] * (len(headers) - 4)
    table = []
    for row in rows:
        if "skipped" in row:
            table.append([f"{row['size']:,}", row["kind"], row["production_kind"], "skipped", *skipped])
            continue
        latency = row["latency_ms"]
        table.append(
            [
                f"{row['size']:,}",
                f"{row['kind']} ({row['faiss_kind']})",
                row["production_kind"],
                f"{row['build_s']:.2f}",
                f"{row['index_bytes'] / MB:.1f}",
                f"{row['rss_delta_bytes'] / MB:.1f}",
                f"{latency['p50']:.3f}",
                f"{latency['p95']:.3f}",
                f"{latency['p99']:.3f}",
                f"{row['latency_1_thread_ms']['p50']:.3f}",
                f"{row['latency_1_thread_ms']['p99']:.3f}",
                f"{row['batch_qps']:,.0f}",
                f"{row['recall@10']:.4f}",
            ]
        )
    print_table(headers, table, title=f"FAISS index per course size (k={K}, efSearch={HNSW_EF_SEARCH})")
    for row in rows:
        if "skipped" in row:
            print(f"  skipped {row['size']:,} {row['kind']}: {row['skipped']}")
    print_table(
        [
            "chunks",
            "p50 x",
            "p95 x",
            "p99 x",
            "p50 1thr x",
            "batch q/s x",
            "index size x",
            "build x",
            "recall@10",
        ],
        [
            [
                f"{c['size']:,}",
                f"{c['p50_latency_ratio']:.3f}",
                f"{c['p95_latency_ratio']:.3f}",
                f"{c['p99_latency_ratio']:.3f}",
                f"{c['p50_1_thread_latency_ratio']:.3f}",
                f"{c['batch_qps_ratio']:.3f}",
                f"{c['index_bytes_ratio']:.3f}",
                f"{c['build_s_ratio']:.0f}",
                f"{c['recall@10']:.4f}",
            ]
            for c in comparisons
        ],
        title="approx (HNSW) / exact (flat) ratios, same run (latency < 1 = HNSW faster)",
    )


# ------------------------------------------------------------------ part 2: many courses (child process)


def _vocabulary(size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "de", "pa", "gu", "fe", "zo", "bi"]
    words = []
    for i in range(size):
        word, n = "", i + len(syllables)
        while n:
            n, r = divmod(n, len(syllables))
            word += syllables[r]
        words.append(word)
    return words


class SyntheticCourses:
    """A ChunkSource whose courses are generated on demand from their id, so the source holds no chunks."""

    def __init__(self, chunks_per_course: int, seed: int, vocabulary: int = 5_000) -> None:
        self.chunks_per_course = chunks_per_course
        self.seed = seed
        self.words = np.array(_vocabulary(vocabulary))
        weights = 1.0 / np.arange(1, vocabulary + 1)
        self.word_p = weights / weights.sum()
        self.loads = 0

    async def get_version(self, course_id: str) -> int:
        return 1

    async def load_course(self, course_id: str) -> StoredCourse:
        self.loads += 1
        number = int(course_id.rsplit("-", 1)[1])
        rng = np.random.default_rng([self.seed, 3, number])
        count = self.chunks_per_course
        lengths = rng.integers(40, 90, count)
        words = self.words[rng.choice(len(self.words), size=int(lengths.sum()), p=self.word_p)]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        chunks = [
            Chunk(
                id=f"{course_id}:{i}",
                course_id=course_id,
                file_id=f"file-{i % 20}",
                file_name=f"file-{i % 20}.md",
                ordinal=i,
                text=" ".join(words[bounds[i] : bounds[i + 1]]),
                heading=f"Unit {i % 20} > Section {i // 20}",
            )
            for i in range(count)
        ]
        centres = cluster_centres(self.seed * 7919 + number, count=50)
        embeddings = clustered_vectors(rng, centres, count, noise=0.75)
        return StoredCourse(1, chunks, embeddings, [FixedEncoder.encoder_id] * count)

    async def replace_embeddings(self, *args) -> None:
        raise AssertionError("every synthetic vector is stamped with the FixedEncoder's id")


class FixedEncoder:
    """A query encoder without a model: every query is the same unit vector."""

    encoder_id = "fixed"

    def __init__(self) -> None:
        vector = np.random.default_rng(0).standard_normal(DIMENSION).astype(np.float32)
        self.vector = vector / np.linalg.norm(vector)

    async def aencode(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.vector, (len(texts), 1))


async def _memory_curve(lru: int, courses: int, chunks_per_course: int, seed: int) -> dict:
    source = SyntheticCourses(chunks_per_course, seed)
    retriever = Retriever(source, FixedEncoder(), cache_dir=None, max_loaded_courses=lru)
    query = " ".join(source.words[[3, 10, 40]])
    course_ids = [f"course-{i}" for i in range(courses)]
    gc.collect()
    baseline = rss()
    curve, seconds = [], []
    for _ in range(2):  # round-robin, twice
        for course_id in course_ids:
            start = time.perf_counter()
            hits = await retriever.retrieve(course_id, query, k=5, method=Method.HYBRID)
            seconds.append(time.perf_counter() - start)
            assert len(hits) == 5
            gc.collect()
            curve.append(rss())
    return {
        "lru": lru,
        "baseline_rss_bytes": baseline,
        "rss_bytes": curve,
        "loaded_courses": len(retriever.loaded_course_ids),
        "course_loads": source.loads,
        "first_pass_retrieve_ms": 1000 * float(np.mean(seconds[:courses])),
        "second_pass_retrieve_ms": 1000 * float(np.mean(seconds[courses:])),
    }


def memory_child(lru: int, courses: int, chunks_per_course: int, seed: int) -> None:
    print("result", json.dumps(asyncio.run(_memory_curve(lru, courses, chunks_per_course, seed))), flush=True)


def checkpoints(courses: int, lru: int) -> list[int]:
    points = {lru, courses}
    point = 8
    while point < courses:
        points.add(point)
        point *= 2
    return sorted(p for p in points if 1 <= p <= courses)


def memory_scale(courses: int, chunks_per_course: int, lru: int, seed: int) -> dict:
    curves = {}
    for name, size in (("bounded", lru), ("unbounded", courses)):
        print(f"\nmemory: {courses} courses with max_loaded_courses={size} ...", flush=True)
        child = Child("--_memory-child", str(size), str(courses), str(chunks_per_course), str(seed))
        try:
            curves[name] = json.loads(child.expect("result", 3600))
        finally:
            child.kill()
    bounded, unbounded = curves["bounded"], curves["unbounded"]
    points = []
    for touched in [*checkpoints(courses, lru), 2 * courses]:
        b, u = bounded["rss_bytes"][touched - 1], unbounded["rss_bytes"][touched - 1]
        b_growth, u_growth = b - bounded["baseline_rss_bytes"], u - unbounded["baseline_rss_bytes"]
        points.append(
            {
                "retrieves": touched,
                "bounded_rss_bytes": b,
                "unbounded_rss_bytes": u,
                "bounded_growth_bytes": b_growth,
                "unbounded_growth_bytes": u_growth,
                "rss_ratio": u / b,
                "growth_ratio": u_growth / max(b_growth, 1),
            }
        )
    # Levelling off: growth of the bounded run from 2x the LRU to the end of pass one, against the unbounded.
    start = min(2 * lru, courses) - 1
    bounded_tail = bounded["rss_bytes"][courses - 1] - bounded["rss_bytes"][start]
    unbounded_tail = unbounded["rss_bytes"][courses - 1] - unbounded["rss_bytes"][start]
    per_course = (unbounded["rss_bytes"][courses - 1] - unbounded["baseline_rss_bytes"]) / courses
    return {
        "courses": courses,
        "chunks_per_course": chunks_per_course,
        "lru": lru,
        "points": points,
        "bounded_tail_growth_bytes": bounded_tail,
        "unbounded_tail_growth_bytes": unbounded_tail,
        "levels_off": courses > 2 * lru and bounded_tail < 0.1 * max(unbounded_tail, 1),
        "unbounded_bytes_per_course": per_course,
        "curves": curves,
    }


def print_memory_table(memory: dict) -> None:
    courses, lru = memory["courses"], memory["lru"]
    rows = []
    for point in memory["points"]:
        touched = point["retrieves"]
        label = f"{touched}" if touched <= courses else f"{touched} (2nd pass)"
        rows.append(
            [
                label,
                f"{point['bounded_rss_bytes'] / MB:.0f}",
                f"{point['unbounded_rss_bytes'] / MB:.0f}",
                f"{point['rss_ratio']:.2f}",
                f"+{point['bounded_growth_bytes'] / MB:.0f}",
                f"+{point['unbounded_growth_bytes'] / MB:.0f}",
                f"{point['growth_ratio']:.1f}",
            ]
        )
    print_table(
        [
            "courses touched",
            f"RSS MiB lru={lru}",
            f"RSS MiB lru={courses}",
            "RSS x",
            "growth",
            "growth",
            "growth x",
        ],
        rows,
        title=f"sme_svc Retriever RSS, {courses} courses x {memory['chunks_per_course']:,} chunks (hybrid, k=5)",
    )
    b, u = memory["curves"]["bounded"], memory["curves"]["unbounded"]
    print(
        f"  RSS growth from {min(2 * lru, courses)} to {courses} courses: lru={lru} "
        f"{memory['bounded_tail_growth_bytes'] / MB:+.0f} MiB, lru={courses} "
        f"{memory['unbounded_tail_growth_bytes'] / MB:+.0f} MiB -> levels off: {memory['levels_off']}"
    )
    print(f"  unbounded: {memory['unbounded_bytes_per_course'] / MB:.1f} MiB per loaded course")
    print(
        f"  retrieve (incl. any load) ms, pass 1 / pass 2: lru={lru} {b['first_pass_retrieve_ms']:.0f} / "
        f"{b['second_pass_retrieve_ms']:.0f} ({b['course_loads']} loads); lru={courses} "
        f"{u['first_pass_retrieve_ms']:.0f} / {u['second_pass_retrieve_ms']:.1f} ({u['course_loads']} loads)"
    )


# ------------------------------------------------------------------ main


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        factor = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("km")) * factor))
    return sizes


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "faiss": faiss.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "load_average": list(os.getloadavg()),
        "total_memory_bytes": psutil.virtual_memory().total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="chunks per course, comma-separated")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--courses", type=int, default=64)
    parser.add_argument("--chunks-per-course", type=int, default=2_000)
    parser.add_argument("--lru", type=int, default=8, help="max_loaded_courses of the bounded run")
    parser.add_argument("--max-build-s", type=float, default=900.0, help="a longer index build is skipped")
    parser.add_argument("--noise", type=float, default=0.75, help="noise norm relative to the cluster centre")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="sizes 10k and 100k only")
    parser.add_argument("--skip-memory", action="store_true", help="part 1 only")
    parser.add_argument("--skip-index", action="store_true", help="part 2 only")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--_index-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--_memory-child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args._index_child:
        index_child(args._index_child[0], Path(args._index_child[1]))
        return
    if args._memory_child:
        memory_child(*args._memory_child)
        return

    sizes = QUICK_SIZES if args.quick else parse_sizes(args.sizes)
    figures: dict = {
        "benchmark": "scale",
        "config": {
            "sizes": sizes,
            "queries": args.queries,
            "k": K,
            "dimension": DIMENSION,
            "clusters": CLUSTERS,
            "noise": args.noise,
            "seed": args.seed,
            "max_build_s": args.max_build_s,
            "hnsw_ef_search": HNSW_EF_SEARCH,
            "courses": args.courses,
            "chunks_per_course": args.chunks_per_course,
            "lru": args.lru,
            "quick": args.quick,
        },
        "machine": machine(),
    }
    started = time.perf_counter()
    if not args.skip_index:
        rows = index_scale(sizes, args.queries, args.noise, args.seed, args.max_build_s)
        figures["indexes"] = rows
        figures["comparisons"] = index_comparisons(rows)
    if not args.skip_memory:
        figures["memory"] = memory_scale(args.courses, args.chunks_per_course, args.lru, args.seed)
    figures["machine"]["load_average_end"] = list(os.getloadavg())
    figures["wall_s"] = time.perf_counter() - started

    if "indexes" in figures:
        print_index_tables(figures["indexes"], figures["comparisons"])
    if "memory" in figures:
        print_memory_table(figures["memory"])
    load = figures["machine"]
    print(
        f"\n{load['cpus']} CPUs, faiss {load['faiss']} with {load['faiss_threads']} threads; load average "
        f"{load['load_average'][0]:.1f} at start, {load['load_average_end'][0]:.1f} at end; "
        f"{figures['wall_s']:.0f} s in all"
    )
    write_json(args.json_path, figures)


if __name__ == "__main__":
    main()
