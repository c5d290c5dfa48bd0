"""Bayesian Knowledge Tracing (Corbett & Anderson, 1995): a pure, dependency-free update rule.

Each (learner, objective) has P(L), the probability the skill is known. After an answer:

  posterior  P(L | correct)   = P(L)(1 - slip) / (P(L)(1 - slip) + (1 - P(L)) guess)
             P(L | incorrect) = P(L) slip      / (P(L) slip      + (1 - P(L))(1 - guess))
  transition P(L') = P(L | answer) + (1 - P(L | answer)) learn
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BktParams:
    p_init: float = 0.2
    p_learn: float = 0.15
    p_slip: float = 0.1
    p_guess: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 < self.p_init < 1.0:
            raise ValueError("p_init must be in (0, 1)")
        if not 0.0 <= self.p_learn < 1.0:
            raise ValueError("p_learn must be in [0, 1)")
        if not (0.0 <= self.p_slip < 1.0 and 0.0 <= self.p_guess < 1.0):
            raise ValueError("p_slip and p_guess must be in [0, 1)")
        if self.p_slip + self.p_guess >= 1.0:
            # Otherwise a correct answer would be evidence of *not* knowing the skill.
            raise ValueError("p_slip + p_guess must be below 1")


def posterior(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known | the observed answer)."""
    p = _clamp(p_known)
    if correct:
        known, unknown = p * (1.0 - params.p_slip), (1.0 - p) * params.p_guess
    else:
        known, unknown = p * params.p_slip, (1.0 - p) * (1.0 - params.p_guess)
    total = known + unknown
    return _clamp(known / total) if total > 0 else p


def update(p_known: float, correct: bool, params: BktParams) -> float:
    """The new P(known) after one answer: the posterior, then the chance of learning from the step."""
    p = posterior(p_known, correct, params)
    return _clamp(p + (1.0 - p) * params.p_learn)


def update_many(p_known: float, answers: Iterable[bool], params: BktParams) -> float:
    for correct in answers:
        p_known = update(p_known, correct, params)
    return p_known


def _clamp(p: float) -> float:
    return min(1.0, max(0.0, p))
