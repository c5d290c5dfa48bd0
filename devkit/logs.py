"""The launcher's output: its own messages and the services' JSON log lines in compact human form,
one line at a time from many threads, with colored prefixes on a terminal.

    [mesh] all services ready in 8.3 s; GraphQL at http://127.0.0.1:8000/graphql
    [sme] INFO  ingest finished  job=3f2a files=1
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable
from typing import TextIO

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_STANDARD_KEYS = {"ts", "level", "service", "logger", "request_id", "msg", "exc"}
# Start-up chatter shown at DEBUG only.
_NOISE = ("setup plugin ", "Context impl ", "Will assume transactional DDL")
# Lines that are surely below WARNING, told apart without parsing them (a busy BFF logs every request).
_QUIET = (b'"level": "DEBUG"', b'"level": "INFO"')
COLORS = {"learner": "36", "instructor": "35", "orchestrator": "33", "sme": "32", "bff": "34"}


def human_log_line(line: str) -> tuple[int, str]:
    """A service's JSON log line in compact human form ("INFO msg k=v"), with its level number."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "msg" not in entry:
        return LEVELS["INFO"], line
    level = str(entry.get("level", "INFO"))
    if str(entry.get("logger", "")).startswith("alembic") and str(entry["msg"]).startswith(_NOISE):
        level = "DEBUG"
    extras = " ".join(f"{k}={v}" for k, v in entry.items() if k not in _STANDARD_KEYS)
    text = f"{level:<5} {entry['msg']}" + (f"  {extras}" if extras else "")
    if entry.get("exc"):
        text += "\n" + "\n".join("    " + x for x in str(entry["exc"]).splitlines())
    return LEVELS.get(level, 20), text


def human_lines(raw_lines: Iterable[str]) -> list[str]:
    """Raw log lines (JSON or not) as the human lines they print as."""
    return [part for raw in raw_lines for part in human_log_line(raw)[1].splitlines()]


class Printer:
    """Thread-safe output. `show_level` is the lowest level of the services' lines that is printed."""

    def __init__(
        self, out: TextIO | None = None, color: bool | None = None, show_level: str = "INFO"
    ) -> None:
        self.out = out or sys.stdout
        if color is None:
            color = self.out.isatty() and not os.environ.get("NO_COLOR")
        self.color = color
        self.show_level = LEVELS.get(show_level.upper(), LEVELS["INFO"])
        self.lock = threading.Lock()

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def line(self, text: str = "") -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def raw(self, text: str) -> None:
        with self.lock:
            self.out.write(text)
            self.out.flush()

    def say(self, text: str) -> None:
        """A message of the launcher itself."""
        self.line(f"{self.paint('[mesh]', '1')} {text}")

    def alarm(self, text: str) -> None:
        """A launcher message that needs attention (a crash, a service given up on)."""
        self.line(self.paint(f"[mesh] {text}", "1;31"))

    def service_line(self, name: str, raw: bytes) -> None:
        """One line a service wrote, printed when its level is at least `show_level`."""
        if self.show_level > LEVELS["INFO"] and any(mark in raw for mark in _QUIET):
            return
        level, text = human_log_line(raw.decode("utf-8", "replace").rstrip("\n"))
        if level >= self.show_level:
            prefix = self.paint(f"[{name}]", COLORS.get(name, "37"))
            with self.lock:
                for part in text.splitlines():
                    self.out.write(f"{prefix} {part}\n")
                self.out.flush()
