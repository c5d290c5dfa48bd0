"""Bayesian Knowledge Tracing: the update rule against hand-computed values and its invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_svc.bkt import BktParams, posterior, update, update_many

P = BktParams(p_init=0.2, p_learn=0.15, p_slip=0.1, p_guess=0.25)
probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def test_a_correct_answer_from_p_init_matches_the_textbook_formula():
    # posterior = 0.2*0.9 / (0.2*0.9 + 0.8*0.25) = 0.18 / 0.38
    assert posterior(0.2, True, P) == pytest.approx(0.18 / 0.38)
    # then the learning transition
    assert update(0.2, True, P) == pytest.approx(0.18 / 0.38 + (1 - 0.18 / 0.38) * 0.15)


def test_an_incorrect_answer_from_p_init_matches_the_textbook_formula():
    # posterior = 0.2*0.1 / (0.2*0.1 + 0.8*0.75) = 0.02 / 0.62
    assert posterior(0.2, False, P) == pytest.approx(0.02 / 0.62)
    assert update(0.2, False, P) == pytest.approx(0.02 / 0.62 + (1 - 0.02 / 0.62) * 0.15)


def test_repeated_correct_answers_converge_towards_mastery():
    p = update_many(P.p_init, [True] * 6, P)
    assert p > 0.95
    assert update_many(P.p_init, [True] * 2, P) < update_many(P.p_init, [True] * 3, P)


def test_a_slip_costs_less_than_a_wrong_guess_gains():
    """After many correct answers one mistake does not wipe out the estimate."""
    strong = update_many(P.p_init, [True] * 6, P)
    assert update(strong, False, P) > 0.5


def test_one_right_and_one_wrong_answer_are_on_opposite_sides_of_a_half():
    """The weak threshold (0.5) separates a first correct answer from a first wrong one."""
    assert update(P.p_init, True, P) > 0.5 > update(P.p_init, False, P)


@given(probability, st.booleans())
def test_update_stays_a_probability(p, correct):
    assert 0.0 <= update(p, correct, P) <= 1.0
    assert 0.0 <= posterior(p, correct, P) <= 1.0


@given(st.floats(min_value=0.001, max_value=0.999))
def test_correct_raises_and_incorrect_lowers_the_posterior(p):
    assert posterior(p, True, P) >= p >= posterior(p, False, P)


@given(st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_update_is_monotonic_in_the_prior(a, b):
    low, high = sorted((a, b))
    for correct in (True, False):
        assert update(low, correct, P) <= update(high, correct, P) + 1e-12


@given(st.lists(st.booleans(), max_size=30))
def test_a_correct_answer_never_leaves_the_learner_worse_off_than_a_wrong_one(history):
    p = update_many(P.p_init, history, P)
    assert update(p, True, P) >= update(p, False, P)


def test_without_learning_the_transition_keeps_the_posterior():
    no_learning = BktParams(p_init=0.3, p_learn=0.0, p_slip=0.1, p_guess=0.2)
    assert update(0.3, True, no_learning) == pytest.approx(posterior(0.3, True, no_learning))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"p_init": 0.0},
        {"p_init": 1.0},
        {"p_learn": 1.0},
        {"p_slip": 0.6, "p_guess": 0.5},
        {"p_guess": -0.1},
    ],
)
def test_nonsensical_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        BktParams(**kwargs)
