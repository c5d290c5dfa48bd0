"""Extractive quiz items, several kinds, each built from one sentence of the module's material:
- definition: "What is X?" against what the material says the other terms are;
- term: "Which term does the material describe as: ...?" against other terms of the same kind;
- statement: "Which statement is true?": one term with its own definition against terms given another's;
- cloze: a key term blanked in a sentence, against other terms of the same kind;
- number: a quantity blanked in a sentence that states it (a computed result, a threshold, a percentage),
  against the other quantities the material gives in the same unit.

Distractors are of the key's kind (a term for a term, a function for a function, a quantity in the same unit
for a quantity, a definition for a definition), agree with it in number so that the sentence's grammar
admits them all, and are ranked by embedding similarity to the key (plausible) but kept below
DISTRACTOR_MAX_COSINE and never containing the key or contained in it (not a paraphrase). Each wrong option
gets a note saying what it is instead, where the material says so.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sme_svc.domain import Chunk, Objective, QuizItem
from sme_svc.generation.conversation import where
from sme_svc.generation.material import Material, is_setup
from sme_svc.generation.ranking import EmbeddingCache, cosine_matrix
from sme_svc.generation.terms import Definition, Term, terms_in
from sme_svc.generation.text import (
    STOPWORDS,
    Sentence,
    clause,
    contains_phrase,
    normalize,
    stem,
    strip_inline,
)
from sme_svc.generation.validation import BLANK, option_key

DISTRACTOR_MAX_COSINE = 0.85
LOOKAHEAD = 4  # drafts of an objective among which the kind least used so far goes first
SENTENCES_PER_OBJECTIVE = 8
_QUANTITY = re.compile(
    r"(?<![\w.])(?P<value>\d+(?:[.,]\d+)?)(?:\s*(?P<unit>%|percent|per cent|[a-zA-Zµ°/]+(?:/[a-zA-Z]+)?))?"
)
_UNITLESS_CONTEXT = re.compile(r"^(?:chapter|section|figure|table|page|step|line|version|python)$", re.I)


@dataclass(frozen=True, slots=True)
class Draft:
    """A question before its options are shuffled."""

    objective_id: str
    kind: str  # definition | term | statement | cloze | number
    question: str
    answer: str
    distractors: tuple[str, ...]
    sentence: Sentence
    location: str  # where the sentence is: file, page or slide, section
    notes: dict[str, str] = field(
        default_factory=dict, hash=False, compare=False
    )  # option -> why it is wrong


def candidate_drafts(
    material: Material,
    objective: Objective,
    chunks: Sequence[Chunk],
    embed: EmbeddingCache,
) -> list[Draft]:
    """All question drafts for one objective, best first, kinds interleaved: items on the objective's own term
    first, then items on the sentences most relevant to it."""
    pool_ids = {c.id for c in chunks} or set(material.chunk_by_id)
    ranked = [s for s in _ranked_sentences(material, objective, pool_ids, embed) if not is_setup(s)]
    named = [t for t in terms_in(objective.text, material.terms) if t.kind != "phrase"]
    mentioned = {t.key: t for t in named + [t for s in ranked for t in terms_in(s.plain, material.terms)]}
    by_kind: dict[str, list[Draft]] = {
        "definition": [],
        "term": [],
        "statement": [],
        "cloze": [],
        "number": [],
    }
    own: list[Draft] = []
    builders = (_definition_draft, _term_draft, _statement_draft)
    for term in mentioned.values():
        definition = material.definitions.get(term.key)
        if (
            not definition
            or not _askable(definition, material)
            or definition.sentence.chunk_id not in pool_ids
        ):
            continue
        # One question per fact, of a kind that depends on the term (so kinds vary across a quiz).
        turn = int(hashlib.sha1(term.key.encode(), usedforsecurity=False).hexdigest(), 16) % len(builders)
        for build in builders[turn:] + builders[:turn]:
            if draft := build(objective, definition, material, embed):
                (own if term in named else by_kind[draft.kind]).append(draft)
                break
    for sentence in ranked:
        if draft := _cloze_draft(objective, sentence, named, material, embed):
            by_kind["cloze"].append(draft)
        if draft := _number_draft(objective, sentence, material):
            by_kind["number"].append(draft)
    return own + _interleave(list(by_kind.values()))


def _interleave(groups: list[list[Draft]]) -> list[Draft]:
    out: list[Draft] = []
    for index in range(max((len(g) for g in groups), default=0)):
        out += [g[index] for g in groups if index < len(g)]
    return out


def _ranked_sentences(material: Material, objective: Objective, pool_ids: set[str], embed) -> list[Sentence]:
    sims = cosine_matrix(embed([objective.text]), material.embeddings)[0] if material.sentences else []
    scored = [
        (float(sims[i]) + (0.15 if s.chunk_id in objective.chunk_ids else 0.0), s.order, s)
        for i, s in enumerate(material.sentences)
        if s.chunk_id in pool_ids
    ]
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [s for _, _, s in scored[:SENTENCES_PER_OBJECTIVE]]


# ------------------------------------------------------------------------------------------------ terms


def _cloze_draft(
    objective: Objective, sentence: Sentence, preferred: list[Term], material: Material, embed
) -> Draft | None:
    found = terms_in(sentence.plain, material.terms)
    mentioned = [t for t in found if _blankable(t, sentence, found, material)]
    if not mentioned:
        return None
    preferred_keys = {t.key for t in preferred}
    answer = sorted(mentioned, key=lambda t: (t.key not in preferred_keys, t.kind == "phrase", -t.score))[0]
    question = _blank(sentence.plain, answer.text)
    if question is None or len(normalize(question.replace(BLANK, " ")).split()) < 6:
        return None
    distractors = term_distractors(answer, sentence, material, embed)
    if len(distractors) < 3:
        return None
    shown = [
        material.in_running_text(t) if answer.group == "word" else t for t in [answer.text, *distractors]
    ]
    return Draft(
        objective.id,
        "cloze",
        f"Fill in the blank: {question}",
        shown[0],
        tuple(shown[1:]),
        sentence,
        _where(material, sentence),
        _term_notes(shown[1:], material),
    )


def _blankable(term: Term, sentence: Sentence, found: list[Term], material: Material) -> bool:
    """Blank a term only where it occurs once and is not part of a longer term ("loop" in "for loop")."""
    if term.group == "word" and term.key not in material.nouns:
        return False  # an adjective's blank admits only adjectives, and the material names few of them
    if term.kind == "code" and (f"`{term.text}`" not in sentence.text or len(term.key) < 3):
        return False  # `for` the keyword, not "For example"; `x` is an example's variable, not a term
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


def term_distractors(answer: Term, sentence: Sentence, material: Material, embed) -> list[str]:
    """Three terms of the answer's kind (see same_kind), close to it but not a paraphrase, none of them in
    the sentence (which would make the question self-answering)."""
    body = normalize(sentence.plain)
    pool = [
        t
        for t in material.terms
        if same_kind(answer, t, material)
        and len(t.key) >= 3
        and t.key not in answer.key
        and answer.key not in t.key
        and not _stems_in(t.text, body)
    ]
    size = len(answer.key.split())
    marked = [t.text for t in pool if t.kind != "phrase"]  # author-marked terms make cleaner distractors
    phrases = [t.text for t in pool if t.kind == "phrase"]  # nouns the text uses often (same_kind)
    return _closest(answer.text, marked, embed, size) or _closest(answer.text, marked + phrases, embed, size)


def _stems_in(phrase: str, normalized: str) -> bool:
    """The phrase occurs in the text, plurals and other light inflections aside ("outlier" in "outliers")."""
    needle = " ".join(stem(w) for w in normalize(phrase).split())
    return bool(needle) and f" {needle} " in " " + " ".join(stem(w) for w in normalized.split()) + " "


def same_kind(a: Term, b: Term, material: Material) -> bool:
    """Terms a learner cannot tell apart by form: both code or both words, both nouns or both adjectives (as
    the material uses them), both singular or both plural."""
    return (
        a.group == b.group
        and _plural(a.text) == _plural(b.text)
        and (a.key in material.nouns) == (b.key in material.nouns)
    )


def _plural(text: str) -> bool:
    last = strip_inline(text).split()[-1].casefold() if text.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is", "()")) and len(last) > 3


def _term_notes(options: Sequence[str], material: Material) -> dict[str, str]:
    notes = {}
    for option in options:
        definition = material.definitions.get(normalize(option))
        if definition and (meaning := _meaning(definition)):
            notes[option] = f"{_quoted(option)} is something else: {_lower_first(meaning)}."
    return notes


# ------------------------------------------------------------------------------------------------ definitions


def _definition_draft(
    objective: Objective, definition: Definition, material: Material, embed
) -> Draft | None:
    """ "What is a for loop?" with the for loop's defining clause against the other terms' clauses."""
    correct = _sentence_case(_meaning(definition))
    if not correct:
        return None
    others = _other_definitions(definition, material)
    distractors = _closest(correct, [_sentence_case(_meaning(d)) for d in others], embed, None)
    if len(distractors) < 3:
        return None
    by_meaning = {_sentence_case(_meaning(d)): d for d in others}
    notes = {
        o: f"That describes {_quoted(by_meaning[o].term.text)}, not {_subject(definition, material)}."
        for o in distractors
    }
    subject = _subject(definition, material)
    question = f"What is {subject}?" if definition.copular else f"Which statement best describes {subject}?"
    sentence = definition.sentence
    return Draft(
        objective.id,
        "definition",
        question,
        correct,
        tuple(distractors),
        sentence,
        _where(material, sentence),
        notes,
    )


def _term_draft(objective: Objective, definition: Definition, material: Material, embed) -> Draft | None:
    """ "Which term does the material describe as: a loop inside another loop?" with the term against other
    terms of its kind (as a cloze item's, none of them in the defining sentence)."""
    meaning = _meaning(definition)
    if not meaning or len(meaning.split()) < 4 or definition.term.key not in material.nouns:
        return None
    distractors = term_distractors(definition.term, definition.sentence, material, embed)
    if len(distractors) < 3:
        return None
    question = f"Which term does the material describe as: {_lower_first(meaning)}?"
    sentence = definition.sentence
    shown = [
        material.in_running_text(t) if definition.term.group == "word" else t
        for t in [definition.term.text, *distractors]
    ]
    return Draft(
        objective.id,
        "term",
        question,
        shown[0],
        tuple(shown[1:]),
        sentence,
        _where(material, sentence),
        _term_notes(shown[1:], material),
    )


def _statement_draft(objective: Objective, definition: Definition, material: Material, embed) -> Draft | None:
    """ "Which statement is true?": the term with its own definition, and other terms each given a definition
    that is not theirs (each false, since the material defines those terms otherwise). The true statement is
    the material's own sentence, so it needs a definition that opens with its term ("X is ...")."""
    if not definition.copular or not _meaning(definition) or definition.term.key not in material.nouns:
        return None
    if normalize(_statement(definition, definition)) not in normalize(definition.sentence.plain):
        return None
    others = [
        d
        for d in _other_definitions(definition, material)
        if d.copular and same_kind(definition.term, d.term, material)
    ]
    if len(others) < 3:
        return None
    vectors = embed([_meaning(definition)] + [_meaning(d) for d in others])
    sims = cosine_matrix(vectors[:1], vectors[1:])[0]
    peers = [others[i] for i in sorted(range(len(others)), key=lambda i: (-sims[i], others[i].term.key))[:3]]
    # Each peer gets the next one's meaning: no pairing is right, and none repeats the key's meaning.
    statements = [_statement(peers[i], peers[(i + 1) % 3]) for i in range(3)]
    correct = _statement(definition, definition)
    if len({option_key(s) for s in [correct, *statements]}) < 4:
        return None
    notes = {
        s: f"No: {_subject(p, material)} is {_lower_first(_meaning(p))}."
        for s, p in zip(statements, peers, strict=True)
    }
    sentence = definition.sentence
    return Draft(
        objective.id,
        "statement",
        "Which statement is true?",
        correct,
        tuple(statements),
        sentence,
        _where(material, sentence),
        notes,
    )


def _statement(subject: Definition, meaning: Definition) -> str:
    return (
        _sentence_case(f"{strip_inline(subject.subject)} {subject.verb.casefold()} {_meaning(meaning)}") + "."
    )


def _askable(definition: Definition, material: Material) -> bool:
    """A definition of a noun: one the author marked up, a phrase of several words, or a word defined with its
    article ("The median is ..."); "two" from "Two events are ..." is no term."""
    term = definition.term
    with_article = definition.subject.split()[0].casefold() in ("a", "an", "the")
    return term.key in material.nouns and (
        term.kind != "phrase" or len(term.key.split()) >= 2 or with_article
    )


def _other_definitions(definition: Definition, material: Material) -> list[Definition]:
    """Definitions of other terms that do not mention this one (they would give it away)."""
    return [
        d
        for d in material.definitions.values()
        if d.term.key != definition.term.key
        and _askable(d, material)
        and _meaning(d)
        and not contains_phrase(normalize(_meaning(d)), definition.term.text)
        and d.copular == definition.copular
    ]


def _meaning(definition: Definition) -> str:
    """The defining clause as an option; "" when it is too long to be an option without cutting it."""
    predicate = clause(definition.predicate, max_words=18, whole=True)
    if not predicate:
        return ""
    return predicate if definition.copular else f"{definition.verb} {predicate}"


def _subject(definition: Definition, material: Material) -> str:
    """The defined term as it reads inside a question: "the median", "probability", "Bayes' theorem"."""
    return material.in_running_text(strip_inline(definition.subject))


# ------------------------------------------------------------------------------------------------ quantities


def _number_draft(objective: Objective, sentence: Sentence, material: Material) -> Draft | None:
    """A quantity the sentence states ("... about 95 percent of the intervals ...") blanked, against the
    material's other quantities in the same unit (or, lacking three, the same value scaled)."""
    quantities = [q for q in _quantities(sentence.plain) if not _UNITLESS_CONTEXT.match(q[2])]
    if len(quantities) != 1:
        return None  # two numbers in one sentence: blanking one leaves its partner as a clue
    text, value, unit = quantities[0][0], quantities[0][1], quantities[0][3]
    question = sentence.plain.replace(text, BLANK, 1)
    if len(normalize(question.replace(BLANK, " ")).split()) < 6:
        return None
    others = sorted(
        {
            q[0]
            for s in material.sentences
            if s is not sentence
            for q in _quantities(s.plain)
            if q[3] == unit and q[1] != value and not _UNITLESS_CONTEXT.match(q[2])
        },
        key=lambda t: (abs(_number(t) - value), t),
    )
    distractors = others[:3] if len(others) >= 3 else _scaled(text, value, unit)
    if len(distractors) < 3 or len({option_key(d) for d in [text, *distractors]}) < 4:
        return None
    return Draft(
        objective.id,
        "number",
        f"Fill in the blank: {question}",
        text,
        tuple(distractors[:3]),
        sentence,
        _where(material, sentence),
    )


def _quantities(text: str) -> list[tuple[str, float, str, str]]:
    """(as written, value, the word before it, unit) of each number in a sentence."""
    out = []
    for match in _QUANTITY.finditer(text):
        before = text[: match.start()].split()
        unit = (match.group("unit") or "").casefold().replace("per cent", "percent").replace("%", "percent")
        if unit in STOPWORDS:  # "30 or more": a count, not a unit
            unit, written = "", match.group("value")
        else:
            written = match.group(0).strip()
        out.append((written, _number(match.group("value")), before[-1] if before else "", unit))
    return out


def _number(text: str) -> float:
    found = re.search(r"\d+(?:[.,]\d+)?", text)
    return float(found.group(0).replace(",", ".")) if found else 0.0


def _scaled(text: str, value: float, unit: str) -> list[str]:
    """Plausible wrong values when the material gives too few: half, double and ten times the value (never
    more than 100 percent)."""
    written = re.search(r"\d+(?:[.,]\d+)?", text).group(0)
    decimals = len(written.replace(",", ".").split(".")[1]) if re.search(r"[.,]", written) else 0
    out = []
    for factor in (0.5, 2, 10):
        scaled = value * factor
        if value == 0 or (unit == "percent" and scaled > 100):
            continue
        places = decimals if scaled == round(scaled, decimals) else decimals + 1
        out.append(text.replace(written, f"{scaled:.{places}f}", 1))
    return out


# ------------------------------------------------------------------------------------------------ options


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
    """Options shuffled by a RNG seeded with (seed, question): deterministic, different across seeds. The
    explanation quotes and cites the supporting sentence; the notes say why each wrong option is wrong."""
    options = [draft.answer, *draft.distractors]
    random.Random(f"{seed}:{draft.question}").shuffle(options)
    digest = hashlib.sha1(
        f"{draft.objective_id}\n{draft.question}".encode(), usedforsecurity=False
    ).hexdigest()
    explanation = (
        f'The answer is "{draft.answer}". The material says: "{draft.sentence.plain}" ({draft.location})'
    )
    return QuizItem(
        id=f"q-{digest[:10]}",
        objective_id=draft.objective_id,
        question=draft.question,
        options=tuple(options),
        correct_index=options.index(draft.answer),
        explanation=explanation,
        chunk_ids=(draft.sentence.chunk_id,),
        option_notes=tuple(draft.notes.get(o, "") for o in options),
    )


def draw(
    bank: dict[str, list[Draft]],
    objectives: Sequence[Objective],
    focus_ids: Sequence[str],
    count: int,
    seed: int,
    seen: Sequence[str],
    accept: Callable[[QuizItem, list[QuizItem]], bool],
) -> list[QuizItem]:
    """Up to `count` items from the module's bank (objective id -> its drafts, best first), objective by
    objective (focus objectives twice per round), each kept only if `accept(item, kept so far)`.

    Drafts the learner has not seen come first; questions in `seen` (most recent first) return only to fill
    what the unseen part of the bank cannot, the longest-unseen first. One question per fact (sentence), one
    per answer while others are left, and item kinds take turns."""
    recency = {normalize(q): rank for rank, q in enumerate(seen)}
    unseen = {o: [d for d in drafts if normalize(d.question) not in recency] for o, drafts in bank.items()}
    # Seen drafts come back in one queue, longest unseen first, whatever their objective.
    again = sorted(
        (d for drafts in bank.values() for d in drafts if normalize(d.question) in recency),
        key=lambda d: -recency[normalize(d.question)],
    )
    items: list[QuizItem] = []
    facts: set[str] = set()
    kinds: Counter[str] = Counter()

    def take(draft: Draft) -> bool:
        item = to_item(draft, seed)
        if not accept(item, items):
            return False
        items.append(item)
        facts.add(draft.sentence.plain)
        kinds[draft.kind] += 1
        return True

    for repeat_answers in (False, True):
        left = {o: list(drafts) for o, drafts in unseen.items()}
        for objective_id in schedule(objectives, focus_ids, count):
            if len(items) >= count or not any(left.values()):
                break
            answers = set() if repeat_answers else {normalize(i.options[i.correct_index]) for i in items}
            eligible = [
                d
                for d in left.get(objective_id, [])
                if d.sentence.plain not in facts and normalize(d.answer) not in answers
            ]
            for draft in sorted(eligible[:LOOKAHEAD], key=lambda d: kinds[d.kind]) + eligible[LOOKAHEAD:]:
                left[objective_id].remove(draft)
                if take(draft):
                    break
    for draft in again:
        if len(items) >= count:
            break
        if draft.sentence.plain not in facts:
            take(draft)
    return items


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


def _quoted(text: str) -> str:
    return f"\u201c{strip_inline(text)}\u201d"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() or len(text) == 1 else text


def _where(material: Material, sentence: Sentence) -> str:
    return where(material.chunk_by_id[sentence.chunk_id])
