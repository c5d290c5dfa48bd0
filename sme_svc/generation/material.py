"""Analysis of a set of chunks that every extractive task starts from: sentences, embeddings, terms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sme_svc.domain import Chunk
from sme_svc.generation.base import ACTION_VERBS
from sme_svc.generation.ranking import EmbeddingCache, centrality, cosine_matrix
from sme_svc.generation.terms import Definition, Term, extract_terms, find_definitions
from sme_svc.generation.text import (
    STOPWORDS,
    Block,
    Sentence,
    chunk_sentences,
    clause,
    code_blocks,
    strip_inline,
    words_of,
)

_EXAMPLE_CUE = re.compile(
    r"(\bfor example\b|\bfor instance\b|\be\.g\.|\bex:|\bsuch as\b|^(?:suppose|imagine|consider)\b)",
    re.IGNORECASE,
)
_COMPUTATION = re.compile(
    r"(\s[=×+*/]\s|\b(equals?|gives|produces|returns|prints|outputs|divided by|times|plus|minus|percent|"
    r"multiplied|squared|average of|sum of)\b|%)",
    re.IGNORECASE,
)
_SETUP = re.compile(
    r"^(ex\b|example\b|suppose|consider|imagine|assume|let's|let us|say\b|in this example|here\b)"
    r"|\b(may want to|wants to|would like to|is asked to)\b",
    re.IGNORECASE,
)
_FORMULA = re.compile(
    r"(\s=\s|\b(equals?|divided by|multiplied by|times the|square root|sum of|product of|formula|"
    r"is calculated|is computed|calculated (?:as|by)|computed (?:as|by)|average of|ratio of|plus or minus)\b)",
    re.IGNORECASE,
)
_CONTRAST = re.compile(
    r"\b(unlike|whereas|in contrast|instead of|compared (?:with|to)|differs? from|difference between|"
    r"rather than|versus|vs\.|on the other hand)\b",
    re.IGNORECASE,
)
_CLASSIFICATION = re.compile(
    r"\b(types of|kinds of|categories|classified|classify|divided into|falls? into|(?:two|three|four) (?:main )?"
    r"(?:types|kinds|categories|groups))\b",
    re.IGNORECASE,
)
_PROCESS = re.compile(
    r"\b(first|then|next|finally|step|steps|process|until|each time|in turn|afterwards|repeats?|causes?|"
    r"leads? to|results? in)\b",
    re.IGNORECASE,
)
# Sentences that say what something is used for, each read by `usage`.
_USED_TO = re.compile(
    r"^(?P<x>.{2,60}?)\s+(?:(?:can|could|may)\s+)?(?:(?:also|often|commonly|usually)\s+)?(?:be|is|are)\s+"
    r"(?:(?:also|often|commonly|usually)\s+)?used\s+(?P<prep>to|for)\s+(?P<y>.+)$",
    re.I,
)
_WAY_TO = re.compile(
    r"^(?P<x>.{2,60}?)\s+(?:is|are|provides?|offers?|gives?)\s+(?:an?|the)\s+(?:[\w-]+\s+(?:and\s+[\w-]+\s+)?)?"
    r"way\s+to\s+(?P<y>.+)$",
    re.I,
)
_DONE_USING = re.compile(
    r"^(?P<thing>.{3,60}?)\s+(?:(?:can|could|may|should|must)\s+)?(?:also\s+)?(?:be|is|are)\s+"
    r"(?P<verb>[a-z]+ed|[a-z]+en|built|made|found|set|split|run|read|shown|sent|kept|held)\s+"
    r"(?P<manner>\w+ly|(?:with|in|into|from|on|at|for|as)\s+[^,;]{1,40}?)?\s*\b(?:by\s+)?using\s+(?P<x>.{2,60})$",
    re.I,
)
_TO_GOAL = re.compile(
    r"^To\s+(?P<y>[a-z]+\b[^,]{3,80}),\s+(?:either\s+)?(?P<x>.{2,60}?)\s+(?:must|can|should)\s+(?:also\s+)?be\s+used$",
    re.I,
)
ENABLING_VERBS = ("lets", "allows", "enables", "helps")  # "X allows you to Y": what X is used for
_LETS = re.compile(
    rf"^(?P<x>.{{2,60}}?)\s+(?:{'|'.join(ENABLING_VERBS)})\s+"
    r"(?:(?P<who>you|us|anyone|everyone|people|(?:the |a )?(?:programmers?|developers?|users?|readers?))\s+)?"
    r"(?:to\s+)?(?P<y>[a-z].+)$",
    re.IGNORECASE,
)
_STEP_CUE = re.compile(r"^(first|second|third|then|next|finally|after that|to [a-z]+\b.*,)", re.IGNORECASE)
_IMPERATIVE = frozenset(
    """add apply avoid build call check choose compare compute create define enter find follow initialize
    keep make move open pass press print read remember replace run save select set start stop test try type
    update use write""".split()
)


@dataclass(slots=True)
class Material:
    chunks: list[Chunk]
    sentences: list[Sentence]
    embeddings: np.ndarray  # one normalized row per sentence
    centrality: np.ndarray
    terms: list[Term]
    definitions: dict[str, Definition]  # term key -> definition
    code: list[tuple[Block, str]]  # (code block, chunk id)
    chunk_by_id: dict[str, Chunk] = field(default_factory=dict)
    nouns: frozenset[str] = frozenset()  # keys of the terms the material uses as nouns (not as adjectives)
    names: frozenset[str] = frozenset()  # words it capitalizes inside sentences and never writes lower-case

    def in_running_text(self, text: str) -> str:
        """Text as it reads inside a sentence: capitalized words in lower case unless they are names
        ("Probability" -> "probability", "Python" and "Bayes" stay)."""
        return " ".join(
            w.lower()
            if (w[:1].isupper() and w[1:].islower() and w not in self.names and not _possessive(w))
            or w in ("A", "An")
            else w
            for w in text.split()
        )

    def similarity(self, query_vectors: np.ndarray) -> np.ndarray:
        """(len(query_vectors), len(sentences)) cosine matrix."""
        return cosine_matrix(query_vectors, self.embeddings)


def analyze(chunks: Sequence[Chunk], embed: EmbeddingCache) -> Material:
    """Sentences, their embeddings and centrality, key terms and definitions, code blocks. CPU-bound."""
    ordered = sorted(dict.fromkeys(chunks), key=lambda c: (c.file_name, c.file_id, c.ordinal, c.id))
    sentences = chunk_sentences(ordered)
    embeddings = embed([s.plain for s in sentences]) if sentences else np.zeros((0, 384), dtype=np.float32)
    terms = extract_terms(ordered)
    return Material(
        chunks=ordered,
        sentences=sentences,
        embeddings=embeddings,
        centrality=centrality(embeddings),
        terms=terms,
        definitions=find_definitions(terms, sentences),
        code=code_blocks(ordered),
        chunk_by_id={c.id: c for c in ordered},
        nouns=frozenset(t.key for t in terms if _used_as_noun(t.text, sentences)),
        names=_names(sentences),
    )


def _possessive(word: str) -> bool:
    """ "Bayes'", "Newton's": a capitalized possessive is a name."""
    return word.endswith(("'", "\u2019", "'s", "\u2019s"))


def _names(sentences: Sequence[Sentence]) -> frozenset[str]:
    """Words capitalized inside a sentence and never written in lower case ("Python"), code spans left out
    ("`python`" is a command, not the language)."""
    prose = [re.sub(r"`[^`]*`", " ", s.text) for s in sentences]
    upper = {w for text in prose for w in re.findall(r"(?<=[^\s.!?:] )[A-Z][a-z'’-]+", text)}
    lower = {w for text in prose for w in re.findall(r"(?<=\S )[a-z][a-z'’-]+", text)}
    return frozenset(w for w in upper if w.lower() not in lower)


_DETERMINERS = frozenset(
    "a an the this that these those each every its their our your his her one two some any no many several all".split()
)


def _used_as_noun(term: str, sentences: Sequence[Sentence]) -> bool:
    """Whether the material uses a term as a noun: a whole noun phrase after a determiner ("an outlier is",
    "... than the median."), or a sentence's subject ("Probability is ..."); adjectives ("a right-skewed
    distribution", "call the result statistically significant") never are."""
    pattern = re.compile(rf"(?:(\w+)\s+)?(?<![\w-]){re.escape(term)}(?![\w-])(?:\s+(\w+))?", re.IGNORECASE)
    for sentence in sentences:
        for match in pattern.finditer(sentence.plain):
            before, after = (match.group(1) or "").casefold(), (match.group(2) or "").casefold()
            heads_a_phrase = not after or after in STOPWORDS or after.endswith(("s", "ed"))
            if before in _DETERMINERS and heads_a_phrase:
                return True
            if match.start() == 0 and after in ("is", "are", "was", "were"):
                return True
    return False


_ORDINAL_STEP = re.compile(
    r"^(first|firstly|second|secondly|third|thirdly|then|next|after that|afterwards|finally|lastly|step \d+)\b",
    re.IGNORECASE,
)
MAX_STEPS = 6


def ordered_steps(material: Material, chunk_ids: set[str]) -> list[Sentence]:
    """The ordered steps the material lays out in one section among these chunks ("First, ...", "Then, ...",
    or a list of instructions), in reading order; [] when no section has three or more."""
    by_section: dict[tuple[str, str], list[Sentence]] = {}
    for sentence in material.sentences:
        if sentence.chunk_id in chunk_ids:
            chunk = material.chunk_by_id[sentence.chunk_id]
            by_section.setdefault((chunk.file_id, sentence.heading), []).append(sentence)
    best: list[Sentence] = []
    for sentences in by_section.values():
        steps = [s for s in sentences if _ORDINAL_STEP.match(s.plain) or (s.in_list and is_procedural(s))]
        if len(steps) > len(best):
            best = steps
    return best[:MAX_STEPS] if len(best) >= 3 else []


def kinds_tree(material: Material, chunk_ids: set[str]) -> tuple[str, list[Term]] | None:
    """A kind of thing and its types as the material names them among these chunks ("variable": "categorical
    variable", "numerical variable"): marked-up noun terms sharing a head noun, two or more; None otherwise."""
    groups: dict[str, list[Term]] = {}
    for term in material.terms:
        words = term.key.split()
        if term.kind == "phrase" or len(words) < 2 or term.key not in material.nouns:
            continue
        if chunk_ids.isdisjoint(term.chunk_ids):
            continue
        head = words[-1][:-1] if words[-1].endswith("s") and len(words[-1]) > 3 else words[-1]
        groups.setdefault(head, []).append(term)
    head, kinds = max(groups.items(), key=lambda item: (len(item[1]), item[0]), default=("", []))
    if len(kinds) < 2:
        return None
    return head, sorted(kinds, key=lambda t: t.key)[:MAX_STEPS]


def is_setup(sentence: Sentence) -> bool:
    """The set-up of a worked example or an exercise ("Suppose ...", "Ex: ...", "Write a program that ..."):
    material to work through, never an objective or an answer."""
    return sentence.in_exercise or bool(_SETUP.search(sentence.plain)) or is_task(sentence)


def sentence_role(sentence: Sentence) -> str:
    """What a sentence does: "formula" | "contrast" | "classification" | "process" | "statement"."""
    text = sentence.plain
    for role, pattern in (
        ("formula", _FORMULA),
        ("contrast", _CONTRAST),
        ("classification", _CLASSIFICATION),
        ("process", _PROCESS),
    ):
        if pattern.search(text):
            return role
    return "statement"


def usage(sentence: Sentence) -> tuple[str, str] | None:
    """(what, what for) of a sentence saying what something is used for: a short subject that names something
    (not "It" or "This"), and a purpose of at most a dozen words, a whole clause that starts with "to" or
    "for" and reads after "Use <what>":
    - "The round() function can be used to mitigate errors" -> ("The round() function", "to mitigate errors");
    - "A for loop can be used for iteration" -> ("A for loop", "for iteration");
    - "Aliasing allows the programmer to use another name" -> ("Aliasing", "to use another name");
    - "F-strings provide a convenient way to combine values" -> ("F-strings", "to combine values");
    - "To save the changes, the close() function must be used" -> ("the close() function", "to save the changes");
    - "List elements can be accessed using an index" -> ("an index", "to access list elements")."""
    text = strip_inline(sentence.plain).strip().rstrip(".!")
    for pattern in (_USED_TO, _LETS, _WAY_TO, _TO_GOAL, _DONE_USING):
        match = pattern.match(text)
        if not match:
            continue
        subject = match.group("x").strip()
        if not _short_name(subject):
            continue
        if pattern is _DONE_USING:
            found = _done_using(match)
            if found:
                return subject, found
            continue
        purpose = clause(match.group("y"), max_words=12, whole=True)
        if not purpose or len(purpose.split()) < 2 or purpose.split()[0].casefold() in _NOT_A_VERB:
            continue
        if match.groupdict().get("prep") == "for":  # "used for iteration and counting"
            return subject, f"for {purpose}"
        # "Polymorphism allows methods to be called ...": with nobody named, only a verb we know can follow.
        if pattern is _LETS and not match.group("who") and purpose.split()[0].casefold() not in KNOWN_VERBS:
            continue
        return subject, f"to {purpose}"
    return None


def _done_using(match: re.Match[str]) -> str:
    """ "Individual list elements can be accessed directly using an index" -> "to access individual list
    elements": the verb in its base form and the thing acted on. How the act is done ("directly", "with
    initial values") stays in the material: moved before "using", it would read as a clause cut short."""
    verb = _base_of_participle(match.group("verb").casefold())
    thing = match.group("thing").strip()
    if not verb or not _short_name(thing):
        return ""
    if re.search(r"\b(?:and|or|can|be|is|are)\b", match.group("manner") or ""):
        return ""  # a second clause, not how the act is done
    return f"to {verb} {_lower_first(thing)}"


_IRREGULAR_PARTICIPLES = {
    "written": "write",
    "made": "make",
    "given": "give",
    "found": "find",
    "taken": "take",
    "shown": "show",
    "built": "build",
    "run": "run",
    "read": "read",
    "set": "set",
    "split": "split",
    "chosen": "choose",
    "drawn": "draw",
    "sent": "send",
    "kept": "keep",
    "held": "hold",
}


def _base_of_participle(word: str) -> str:
    """ "accessed" -> "access", "created" -> "create", "specified" -> "specify", "written" -> "write"; "" for
    a word that is not the participle of a verb we know."""
    if word in _IRREGULAR_PARTICIPLES:
        return _IRREGULAR_PARTICIPLES[word]
    if not word.endswith("ed"):
        return ""
    # create(d), access(ed), specif(ied), stop(ped)
    options = (word[:-1], word[:-2], word[:-3] + "y", word[:-3])
    return next((o for o in options if o in KNOWN_VERBS), "")


def _lower_first(phrase: str) -> str:
    """ "Individual list elements" -> "individual list elements"; names ("Python", "NumPy") keep their case."""
    first, _, rest = phrase.partition(" ")
    lowered = first.casefold() if first[1:] == first[1:].casefold() else first
    return f"{lowered} {rest}".strip()


_NOT_A_VERB = frozenset("a an the this that these those its their his her our your for of in on".split())
KNOWN_VERBS = _IMPERATIVE | {v.casefold() for v in ACTION_VERBS}  # verbs recognized without the material
_REFERRING = frozenset("it this that these those they which such both each another other".split())


def names_an_act(phrase: str) -> bool:
    """A gerund with its object ("Calling help() in a shell", "Looping on a dictionary") names an act;
    "Aliasing" alone names a technique, and "String methods" is no gerund."""
    words = phrase.casefold().split()
    return len(words) > 1 and len(words[0]) > 5 and words[0].endswith("ing") and words[0] != "string"


def _short_name(phrase: str) -> bool:
    """One to six words that name something ("The round() function"), not a pronoun ("It", "This")."""
    words = phrase.split()
    return 1 <= len(words) <= 6 and words[0].casefold() not in _REFERRING and _names_something(phrase)


def _names_something(subject: str) -> bool:
    """No verb-like word and no comma inside, and no activity ("The code that reads ...", "For comparing two
    characters, ASCII values", "Calling help() in a shell" are clauses or acts, not names)."""
    if names_an_act(subject):
        return False
    return not re.search(
        r"\b(that|which|who|when|if|is|are|was|were|has|have|can|also|do|does|not|will|would|should)\b|,",
        subject,
        re.IGNORECASE,
    )


def is_example(sentence: Sentence) -> bool:
    """A real example: an explicit cue ("for example", "for instance", "e.g.", "such as", "Ex:", "suppose"),
    a worked computation (numbers with an operation or a result: "= 3.5", "divided by 4", "gives 95
    percent"), or a code span with a call, a literal or an assignment. Numbers alone (a year, a count in
    passing) are not an example."""
    text = sentence.plain
    code = "".join(re.findall(r"`([^`]+)`", sentence.text))
    return (
        bool(_EXAMPLE_CUE.search(text))
        or bool(re.search(r"\d", text) and _COMPUTATION.search(text))
        or bool(re.search(r"[(=\d\"']", code))
    )


def is_procedural(sentence: Sentence) -> bool:
    """An instruction or a step: imperative first word or an ordering cue ("First, ...", "To do X, ...")."""
    words = words_of(sentence.plain)
    return bool(words) and (words[0] in _IMPERATIVE or bool(_STEP_CUE.match(sentence.plain)))


def is_task(sentence: Sentence) -> bool:
    """An exercise given to the reader ("Write a program that ...")."""
    words = words_of(sentence.plain)
    return len(words) >= 6 and words[0] in {"write", "create", "build", "modify", "try", "change", "design"}
