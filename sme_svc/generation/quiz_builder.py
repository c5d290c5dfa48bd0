"""Extractive quiz questions: cloze items (a key term blanked in a supporting sentence) and definition items
("What is X?" with the defining clause against the defining clauses of other terms).

Distractors are other key terms (or definitions) of the same material and kind, ranked by embedding
similarity to the answer (plausible) but below DISTRACTOR_MAX_COSINE (not a synonym of it).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sme_svc.domain import Chunk, Objective, QuizItem
from sme_svc.generation.material import Material
from sme_svc.generation.ranking import EmbeddingCache, cosine_matrix
from sme_svc.generation.terms import Definition, Term, terms_in
from sme_svc.generation.text import Sentence, clause, contains_phrase, normalize, strip_inline
from sme_svc.generation.validation import BLANK, option_key

DISTRACTOR_MAX_COSINE = 0.85
SENTENCES_PER_OBJECTIVE = 8


@dataclass(frozen=True, slots=True)
class Draft:
    """A question before its options are shuffled."""

    objective_id: str
    question: str
    answer: str
    distractors: tuple[str, ...]
    sentence: Sentence
    file_name: str


def candidate_drafts(
    material: Material,
    objective: Objective,
    chunks: Sequence[Chunk],
    embed: EmbeddingCache,
) -> list[Draft]:
    """All question drafts for one objective, best first: a definition item for the objective's own term,
    then cloze items over the most relevant sentences, then other definitions."""
    pool_ids = {c.id for c in chunks} or set(material.chunk_by_id)
    ranked = _ranked_sentences(material, objective, pool_ids, embed)
    named = [t for t in terms_in(objective.text, material.terms) if t.kind != "phrase"]
    own, others = [], []
    for term in {
        t.key: t for t in named + [t for s in ranked for t in terms_in(s.plain, material.terms)]
    }.values():
        definition = material.definitions.get(term.key)
        if definition and definition.sentence.chunk_id in pool_ids:
            draft = _definition_draft(objective, definition, material, embed)
            if draft:
                (own if term in named else others).append(draft)
    cloze = [d for s in ranked if (d := _cloze_draft(objective, s, named, material, embed))]
    return own + cloze + others


def _ranked_sentences(material: Material, objective: Objective, pool_ids: set[str], embed) -> list[Sentence]:
    sims = cosine_matrix(embed([objective.text]), material.embeddings)[0] if material.sentences else []
    scored = [
        (float(sims[i]) + (0.15 if s.chunk_id in objective.chunk_ids else 0.0), s.order, s)
        for i, s in enumerate(material.sentences)
        if s.chunk_id in pool_ids
    ]
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [s for _, _, s in scored[:SENTENCES_PER_OBJECTIVE]]


def _cloze_draft(
    objective: Objective, sentence: Sentence, preferred: list[Term], material: Material, embed
) -> Draft | None:
    found = terms_in(sentence.plain, material.terms)
    mentioned = [t for t in found if _blankable(t, sentence, found)]
    if not mentioned:
        return None
    preferred_keys = {t.key for t in preferred}
    answer = sorted(mentioned, key=lambda t: (t.key not in preferred_keys, t.kind == "phrase", -t.score))[0]
    question = _blank(sentence.plain, answer.text)
    if question is None or len(normalize(question.replace(BLANK, " ")).split()) < 6:
        return None
    distractors = _term_distractors(answer, sentence, material.terms, embed)
    if len(distractors) < 3:
        return None
    return Draft(
        objective.id,
        f"Fill in the blank: {question}",
        answer.text,
        tuple(distractors),
        sentence,
        material.chunk_by_id[sentence.chunk_id].file_name,
    )


def _blankable(term: Term, sentence: Sentence, found: list[Term]) -> bool:
    """Blank a term only where it occurs once and is not part of a longer term ("loop" in "for loop")."""
    if term.kind == "phrase" and len(term.key.split()) < 2:
        return False
    if term.kind == "code" and f"`{term.text}`" not in sentence.text:
        return False  # `for` the keyword, not "For example"
    if any(other.key != term.key and f" {term.key} " in f" {other.key} " for other in found):
        return False
    occurrences = re.findall(rf"(?<![\w]){re.escape(term.text)}(?![\w])", sentence.plain, flags=re.IGNORECASE)
    return len(occurrences) == 1


def _blank(plain: str, term: str) -> str | None:
    pattern = re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])", re.IGNORECASE)
    if not pattern.search(plain):
        return None
    blanked = pattern.sub(BLANK, plain)
    return re.sub(rf"\b([Aa])n? {BLANK}", rf"\1(n) {BLANK}", blanked)  # "an ____" would give the answer away


def _term_distractors(answer: Term, sentence: Sentence, terms: Sequence[Term], embed) -> list[str]:
    body = normalize(sentence.plain)
    pool = [
        t
        for t in terms
        if t.group == answer.group
        and t.key not in answer.key
        and answer.key not in t.key
        and not contains_phrase(body, t.text)
    ]
    size = len(answer.key.split())
    marked = [t.text for t in pool if t.kind != "phrase"]  # author-marked terms make cleaner distractors
    chosen = _closest(answer.text, marked, embed, size) or _closest(
        answer.text, [t.text for t in pool], embed, size
    )
    if chosen:
        return chosen
    # Small modules: borrow marked terms of the other group (code vs words) rather than give up.
    others = [
        t.text for t in terms if t.kind != "phrase" and t.key not in answer.key and answer.key not in t.key
    ]
    return _closest(answer.text, [o for o in others if not contains_phrase(body, o)], embed, size)


def _definition_draft(
    objective: Objective, definition: Definition, material: Material, embed
) -> Draft | None:
    correct = _sentence_case(_meaning(definition))
    if not correct:
        return None
    others = [
        d
        for d in material.definitions.values()
        if d.term.key != definition.term.key
        and _meaning(d)
        and not contains_phrase(normalize(_meaning(d)), definition.term.text)
    ]
    same_form = [d for d in others if d.copular == definition.copular]
    pool = same_form if len(same_form) >= 3 else others
    distractors = _closest(correct, [_sentence_case(_meaning(d)) for d in pool], embed, None)
    if len(distractors) < 3:
        return None
    subject = strip_inline(definition.subject)
    subject = subject[:1].lower() + subject[1:] if subject.split()[0] in ("A", "An", "The") else subject
    question = f"What is {subject}?" if definition.copular else f"Which statement best describes {subject}?"
    sentence = definition.sentence
    return Draft(objective.id, question, correct, tuple(distractors), sentence, _file(material, sentence))


def _meaning(definition: Definition) -> str:
    """The defining clause as an option; "" when it is too long to be an option without cutting it."""
    predicate = clause(definition.predicate, max_words=18, whole=True)
    if not predicate:
        return ""
    return predicate if definition.copular else f"{definition.verb} {predicate}"


def _closest(answer: str, options: list[str], embed, word_count: int | None) -> list[str]:
    """Three options most similar to the answer but not near-synonyms, of similar length, distinct."""
    options = sorted(dict.fromkeys(o for o in options if option_key(o) != option_key(answer)))
    if len(options) < 3:
        return []
    vectors = embed([strip_inline(answer)] + [strip_inline(o) for o in options])
    sims = cosine_matrix(vectors[:1], vectors[1:])[0]
    ranked = sorted(
        (i for i in range(len(options)) if sims[i] < DISTRACTOR_MAX_COSINE),
        key=lambda i: (
            word_count is not None and abs(len(options[i].split()) - word_count) > 1,
            -sims[i],
            options[i],
        ),
    )
    chosen: list[str] = []
    for i in ranked:
        if _stem_key(options[i]) not in {_stem_key(c) for c in [answer, *chosen]}:
            chosen.append(options[i])
        if len(chosen) == 3:
            break
    return chosen if len(chosen) == 3 else []


def to_item(draft: Draft, seed: int) -> QuizItem:
    """Options shuffled by a RNG seeded with (seed, question): deterministic, different across seeds."""
    options = [draft.answer, *draft.distractors]
    random.Random(f"{seed}:{draft.question}").shuffle(options)
    digest = hashlib.sha1(
        f"{draft.objective_id}\n{draft.question}".encode(), usedforsecurity=False
    ).hexdigest()
    location = f"{draft.file_name}" + (f", {draft.sentence.heading}" if draft.sentence.heading else "")
    explanation = f'The answer is "{draft.answer}". The material says: "{draft.sentence.plain}" ({location})'
    return QuizItem(
        id=f"q-{digest[:10]}",
        objective_id=draft.objective_id,
        question=draft.question,
        options=tuple(options),
        correct_index=options.index(draft.answer),
        explanation=explanation,
        chunk_ids=(draft.sentence.chunk_id,),
    )


def schedule(objectives: Sequence[Objective], focus_ids: Sequence[str], count: int) -> Iterator[str]:
    """Objective ids in the order questions are drawn: focus objectives twice per round."""
    focus = set(focus_ids)
    rounds = [o.id for o in objectives for _ in range(2 if o.id in focus else 1)]
    for _ in range(count):
        yield from rounds


def shuffled_window(drafts: list[Draft], seed: int, window: int) -> list[Draft]:
    """Vary which good drafts come first across seeds while keeping the best ones in play."""
    if seed == 0 or len(drafts) < 2:
        return drafts
    head, tail = drafts[:window], drafts[window:]
    random.Random(seed).shuffle(head)
    return head + tail


def _stem_key(option: str) -> str:
    """ "iteration" and "iterations" are the same option to a learner."""
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in option_key(option).split())


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _file(material: Material, sentence: Sentence) -> str:
    return material.chunk_by_id[sentence.chunk_id].file_name
