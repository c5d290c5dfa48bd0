"""Key terms of a set of chunks and the sentences that define them.

Terms come from what authors mark as terms (bold text, code spans), backed by a RAKE-like phrase extractor
(runs of content words between stopwords) for material without markup. Scores are TF-IDF-like over chunks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sme_svc.domain import Chunk
from sme_svc.generation.text import (
    STOPWORDS,
    Sentence,
    bold_terms,
    code_spans,
    contains_phrase,
    normalize,
    parse_blocks,
    strip_inline,
    words_of,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*(\(\))?$")
_KIND_BOOST = {"bold": 3.0, "code": 1.5, "phrase": 1.0}
# Words that make poor stand-alone terms even when frequent.
_GENERIC = frozenset(
    """example examples following program programs value values code line lines number numbers time way ways
    thing things use used using uses make makes made called call first second third last new next different
    same many several another true false result results part parts case cases step steps show shows given
    need needs want also always never print prints""".split()
)
_ADJECTIVES = frozenset(
    "large small big simple new good bad high low whole common important main general specific many few".split()
)
_VERBS = frozenset(
    """improve improves increase increases decrease decreases show shows make makes give gives take takes help
    helps change changes become becomes grow grows depend depends allow allows require requires provide
    provides reduce reduces represent represents mean means tell tells find finds""".split()
)
_HEAD_NOUNS = ("statement", "function", "method", "clause", "keyword", "operator")
_DEFINING_VERBS = ("is", "are", "refers to", "means", "can be")
_NOT_VERBS = frozenset({"has", "does", "this", "its", "was", "always", "also", "thus"})
_DETERMINERS = frozenset({"a", "an", "the", "one", "any", "some", "each", "every", "two", "used"})
_SUBJECT_LEAD = r"(?:(?:in|for|with|on|at)\s[^,]{1,40},\s+)?"
# "The split() method, when applied to a string, splits ...": the kind of thing named, and a condition between
# the subject and its verb.
_HEAD_NOUN = r"(?:\s+(?:function|method|statement|operator|keyword))?"
# A verb in the third person singular ("iterates"); "class", "process" end in "ss" and are not.
VERB_S = r"[a-z]{2,}[a-rt-z]s"
_ASIDE = r"(?:,\s+(?:when|if|once)\s[^,]{2,60},)?"


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # plain display form, e.g. "for loop", "range()"
    kind: str  # bold | code | phrase
    score: float
    chunk_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        return normalize(self.text)

    @property
    def group(self) -> str:
        """Distractors come from the same group: functions ("len()"), other code identifiers, words."""
        if self.text.endswith(")") and "(" in self.text:
            return "function"
        return "code" if self.kind == "code" or "_" in self.text else "word"

    @property
    def aliases(self) -> tuple[str, ...]:
        """Shorter names a text may use: "break statement" is also called "break"."""
        words = self.text.split()
        if len(words) >= 2 and words[-1].casefold() in _HEAD_NOUNS and len(" ".join(words[:-1])) >= 3:
            return (self.text, " ".join(words[:-1]))
        return (self.text,)


@dataclass(frozen=True, slots=True)
class Definition:
    """A sentence whose subject is the term: "<subject> <verb> <predicate>"."""

    term: Term
    sentence: Sentence
    subject: str  # as written, e.g. "A nested loop"
    verb: str  # "is", "are", "iterates", ...
    predicate: str  # plain text after the verb, without the final period

    @property
    def copular(self) -> bool:
        return self.verb.casefold() in _DEFINING_VERBS


def extract_terms(chunks: Sequence[Chunk], limit: int = 80) -> list[Term]:
    """Key terms ranked by score (ties: alphabetical), at most `limit`."""
    texts = {c.id: normalize(c.text) for c in chunks}
    headings = " ".join(normalize(c.heading) for c in chunks)
    candidates = _candidates(chunks)
    terms: list[Term] = []
    for text, kind in candidates.items():
        holders = tuple(cid for cid, body in texts.items() if contains_phrase(body, text))
        if not holders:
            continue
        tf = sum(f" {body} ".count(f" {normalize(text)} ") for body in texts.values())
        idf = math.log(1 + len(texts) / len(holders))
        boost = _KIND_BOOST[kind] * (1.5 if contains_phrase(headings, text) else 1.0)
        terms.append(Term(text, kind, round((1 + math.log(tf)) * idf * boost, 6), holders))
    terms.sort(key=lambda t: (-t.score, t.text.casefold()))
    return terms[:limit]


def _candidates(chunks: Sequence[Chunk]) -> dict[str, str]:
    """Candidate term text -> kind; marked-up terms win over extracted phrases with the same key."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in chunks:
        for raw in bold_terms(chunk.text):
            _offer(found, strip_inline(raw), "bold")
        for raw in code_spans(chunk.text):
            if _IDENTIFIER.match(raw) and not raw.isdigit():
                _offer(found, raw, "code")
    for phrase in _rake_phrases(chunks):
        _offer(found, phrase, "phrase")
    return {text: kind for text, kind in found.values()}


def _offer(found: dict[str, tuple[str, str]], text: str, kind: str) -> None:
    text = text.strip().strip(".,:;")
    key = normalize(text)
    words = key.split()
    if not key or not 1 <= len(words) <= 5 or len(text) > 50 or not any(ch.isalpha() for ch in text):
        return
    if kind == "phrase" and (words[0] in STOPWORDS or words[-1] in STOPWORDS):
        return
    current = found.get(key)
    if current is None or _KIND_BOOST[kind] > _KIND_BOOST[current[1]]:
        found[key] = (text, kind)


def _rake_phrases(chunks: Sequence[Chunk]) -> list[str]:
    """Runs of 1-3 content words between stopwords/punctuation, frequent enough to be terms."""
    counts: Counter[str] = Counter()
    for chunk in chunks:
        for block in parse_blocks(chunk.text):
            if block.kind in ("paragraph", "item"):
                counts.update(_runs(strip_inline(block.text)))
    return sorted(p for p, n in counts.items() if n >= (2 if " " in p else 3) and _noun_like(p))


def _noun_like(phrase: str) -> bool:
    """Crude part-of-speech guard (no tagger): no leading size/quality adjective, no trailing common verb."""
    words = phrase.split()
    return words[0] not in _ADJECTIVES and words[-1] not in _VERBS and not words[-1].endswith("ly")


def _runs(text: str) -> list[str]:
    runs: list[str] = []
    for fragment in re.split(r"[^\w\s'-]+", text):
        run: list[str] = []
        for word in fragment.split():
            lowered = word.casefold()
            if lowered in STOPWORDS or lowered in _GENERIC or not lowered.isalpha() or len(lowered) < 3:
                if 1 <= len(run) <= 3:
                    runs.append(" ".join(run).casefold())
                run = []
            else:
                run.append(word)
        if 1 <= len(run) <= 3:
            runs.append(" ".join(run).casefold())
    return runs


def find_definitions(terms: Sequence[Term], sentences: Sequence[Sentence]) -> dict[str, Definition]:
    """term key -> the first sentence that has the term as its subject (bold mentions preferred)."""
    by_key: dict[str, Definition] = {}
    for term in terms:
        matches = [d for s in sentences if (d := _definition(term, s))]
        if matches:
            matches.sort(
                key=lambda d: (f"**{term.text.casefold()}" not in d.sentence.text.casefold(), not d.copular)
            )
            by_key[term.key] = matches[0]
    return by_key


def _definition(term: Term, sentence: Sentence) -> Definition | None:
    return subject_statement(term, sentence) or _called_definition(term, sentence)


def _called_definition(term: Term, sentence: Sentence) -> Definition | None:
    """ "Each repetition of the loop body is called an iteration." defines "iteration"."""
    plain = sentence.plain.strip().rstrip(".!")
    pattern = rf"^(?P<predicate>.{{10,}}?),?\s+(?:is|are)\s+(?:called|known as|named)\s+(?:(?:a|an|the)\s+)?{re.escape(term.text)}$"
    match = re.match(pattern, plain, flags=re.IGNORECASE)
    if not match or len(words_of(match.group("predicate"))) < 3:
        return None
    return Definition(term, sentence, term.text, "is", match.group("predicate"))


def subject_statement(term: Term, sentence: Sentence) -> Definition | None:
    """The sentence as "<the term> <verb> <predicate>": a definition ("A list is ...") or a statement of what
    the term does ("The raise statement stops ..."); None when the term is not its subject."""
    plain = sentence.plain.strip()
    pattern = (
        rf"^{_SUBJECT_LEAD}(?P<subject>(?:(?:a|an|the)\s+)?(?:built-in\s+)?{re.escape(term.text)}{_HEAD_NOUN})"
        rf"{_ASIDE}\s+(?P<verb>is|are|refers to|means|can be|{VERB_S})\s+(?P<predicate>.+?)[.!]?$"
    )
    match = re.match(pattern, plain, flags=re.IGNORECASE)
    if not match:
        return None
    verb = match.group("verb").casefold()
    if verb not in _DEFINING_VERBS and verb in STOPWORDS | _NOT_VERBS:
        return None
    predicate = match.group("predicate").strip()
    if len(words_of(predicate)) < 3:
        return None
    if verb in ("is", "are") and words_of(predicate)[0] not in _DETERMINERS:
        return None  # "X is bound to ..." is a passive statement, not a definition
    return Definition(term, sentence, match.group("subject"), match.group("verb"), predicate)


def terms_in(text: str, terms: Sequence[Term]) -> list[Term]:
    """Terms mentioned in `text` (by name or alias), longest first."""
    body = normalize(text)
    found = [t for t in terms if any(contains_phrase(body, alias) for alias in t.aliases)]
    return sorted(found, key=lambda t: (-len(t.key), t.key))
