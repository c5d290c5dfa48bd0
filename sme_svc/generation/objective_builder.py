"""Extractive learning objectives: one per concept of the module, its verb chosen by what the source does.

A concept is a section of the material (its heading) or a key term the material marks up. Its sentences say
what kind of knowledge it is, and that picks the verb (Bloom level):
- a purpose ("X can be used to Y", "X lets you Y"): "Use X to Y";
- a formula or a computation (equals, divided by, =, a worked calculation): "Calculate X";
- a contrast with a peer term (unlike, whereas, compared with): "Compare X and Y" / "Distinguish X from Y";
- a classification (types of, kinds of, classified as): "Classify X as A or B" / "Identify the types of X";
- a definition ("X is a ...", "... is called X"): "Define X";
- a mechanism or a process (steps, cause and effect): "Explain how X <verb> ..." / "Describe X".
A heading that already names an activity ("Counting with a while loop") becomes that activity ("Count with a
while loop"). Clauses taken from the material are used whole or not at all, never cut mid-phrase, and the
set-up of a worked example ("Suppose ...", "Write a program that ...") is never an objective.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sme_svc.domain import Objective
from sme_svc.generation.material import (
    ENABLING_VERBS,
    KNOWN_VERBS,
    Material,
    is_setup,
    names_an_act,
    sentence_role,
    usage,
)
from sme_svc.generation.ranking import EmbeddingCache
from sme_svc.generation.terms import VERB_S, Definition, Term, subject_statement, terms_in
from sme_svc.generation.text import Sentence, clause, is_label, normalize, strip_inline, words_of

MAIN_PRIOR = 0.9  # the module's own topic (its top heading)
RELEVANCE_WEIGHT = 0.7  # against the concept's prior; 0.3-0.9 measured within 0.01 of each other
MATERIAL_WEIGHT = 0.5  # relevance: the material's centroid against the module's title
MAX_PURPOSE_WORDS = 12
MAX_PREDICATE_WORDS = 12
# Headings that organize a text rather than name a concept.
_STRUCTURAL = re.compile(
    r"^(introduction|overview|background$|summary|conclusion|review|exercises?|practice|key terms|glossary|references|"
    r"learning objectives?|objectives|further reading|questions|answers|appendix|chapter \d+|section \d+|"
    r"concepts in practice|checkpoint|try it|example\b|examples\b|worked example|activity|quiz|notes?)",
    re.IGNORECASE,
)
_COMMON_WORDS = frozenset("word words note example value values result line code text data".split())
_GENERIC_HEADING = re.compile(
    r"^(?:an? )?(?:introduction|overview|more) (?:to|of|on|about)\s+|^more\s+"
    r"|\s+(?:basics|fundamentals|essentials|revisited|in practice|in brief|overview)$",
    re.IGNORECASE,
)
_GERUND_EXCEPTIONS = {
    "using": "use",
    "making": "make",
    "writing": "write",
    "having": "have",
    "taking": "take",
}


@dataclass(slots=True)
class Concept:
    """Something the module teaches: a section (by its heading) or a key term, with its sentences."""

    name: str  # display form: "while loop", "measures of spread"
    key: str  # normalized name
    sentences: list[Sentence] = field(default_factory=list)
    term: Term | None = None
    heading: str = ""  # the heading as written, for heading concepts
    prior: float = 0.5  # 0..1: how central the concept is to the module


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    chunk_ids: tuple[str, ...]
    prior: float
    concept: str  # concept key: one objective per concept (two, with different verbs, for the main one)
    verb: str
    main: bool = False


def build_objectives(
    material: Material,
    module_query: str,
    count: int,
    avoid: Sequence[str],
    embed: EmbeddingCache,
    module_key: str,
) -> list[Objective]:
    """Up to `count` objectives, best first: relevant to the module, central, on distinct concepts, with
    varied verbs."""
    candidates = candidates_for(material)
    if not candidates or count <= 0:
        return []
    vectors = embed([c.text for c in candidates])
    relevance = _relevance(embed([module_query])[0], material, vectors)
    scores = RELEVANCE_WEIGHT * relevance + (1 - RELEVANCE_WEIGHT) * np.array([c.prior for c in candidates])
    avoid_vectors = embed(list(avoid)) if avoid else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    picked = _pick(candidates, scores, vectors, avoid_vectors, count)
    return [_objective(candidates[i], module_key) for i in picked]


def _relevance(query: np.ndarray, material: Material, vectors: np.ndarray) -> np.ndarray:
    """Closeness to the module's title and, as much, to what its material says: a title alone favours terse
    objectives that echo it ("Define output" over "Use the print() function to display output")."""
    title = vectors @ query
    if not len(material.embeddings):
        return title
    centroid = material.embeddings.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return (1 - MATERIAL_WEIGHT) * title + MATERIAL_WEIGHT * (vectors @ centroid)


def candidates_for(material: Material) -> list[Candidate]:
    """Every objective the material supports, at most a few forms per concept, and one per sentence that
    says what something is used for."""
    definitions = material.definitions
    out: list[Candidate] = []
    for concept in concepts(material):
        out += _forms(concept, material, definitions)
    for sentence in material.sentences:
        if (found := usage(sentence)) and not is_setup(sentence):
            subject, purpose = found
            name = _lower_article(noun_phrase(subject, material))
            text = finish(f"Use {name} {purpose}")
            key = re.sub(r"^(?:the|a|an) ", "", normalize(name))
            out.append(Candidate(text, (sentence.chunk_id,), 0.55, key, "Use"))
    return _dedupe(out)


def _used_for(sentence: Sentence, core: str) -> bool:
    """The sentence says what the concept itself is used for (it is the subject, give or take a word)."""
    found = usage(sentence)
    if not found:
        return False
    subject = normalize(found[0])
    return core in subject and len(subject.split()) <= len(core.split()) + 3


# ------------------------------------------------------------------------------------------------ concepts


def concepts(material: Material) -> list[Concept]:
    """Section concepts (headings with their sentences) and term concepts (marked-up or defined terms)."""
    found: dict[str, Concept] = {}
    by_heading: dict[str, list[Sentence]] = {}
    for sentence in material.sentences:
        for part in _heading_parts(sentence.heading):
            by_heading.setdefault(part, []).append(sentence)
    depth_of: dict[str, int] = {}
    for sentence in material.sentences:
        for depth, part in enumerate(_heading_parts(sentence.heading)):
            depth_of[part] = min(depth, depth_of.get(part, depth))
    for heading, sentences in by_heading.items():
        name = noun_phrase(heading, material)
        key = normalize(name)
        if not key or _STRUCTURAL.match(heading) or is_label(heading) or len(key.split()) > 8:
            continue
        if re.search(r"[|;:]|\w[.!]\s", heading) or re.match(r"(?i)ex\b", heading):
            continue  # a table row or a sentence taken for a heading
        prior = MAIN_PRIOR if depth_of.get(heading, 1) == 0 else 0.7
        concept = found.setdefault(key, Concept(name, key, heading=heading, prior=prior))
        concept.sentences += [s for s in sentences if s not in concept.sentences]
    top = max((t.score for t in material.terms), default=1.0) or 1.0
    examples = _example_names(material)
    for term in material.terms:
        if term.kind == "phrase" and (term.key not in material.definitions or len(term.key.split()) < 2):
            continue  # an unmarked single word ("two", "independent") is rarely a concept
        if len(term.key) < 3 or term.text.casefold() in examples:
            continue  # "s", "x", "total = 3 * 5.0": a name of an example
        mentioning = [s for s in material.sentences if term.key in normalize(s.plain)]
        if not mentioning:
            continue
        concept = found.get(term.key)
        if concept is None:
            concept = found[term.key] = Concept(
                _term_name(term, material), term.key, prior=0.35 + 0.4 * term.score / top
            )
        concept.term = term
        concept.sentences += [s for s in mentioning if s not in concept.sentences]
    return list(found.values())


def _example_names(material: Material) -> set[str]:
    """Names the material's code binds ("total = 3", "class Daffodil(Plant):", "def factorial(n):"): an
    example's own variables, classes and functions. Special methods ("__init__") are the language's."""
    bound = re.compile(r"^\s*(?:class\s+(\w+)|def\s+(\w+)\s*\(|([A-Za-z_]\w*)\s*=(?!=))", re.MULTILINE)
    names = set()
    for block, _ in material.code:
        for match in bound.finditer(block.text):
            name = match.group(1) or match.group(3) or f"{match.group(2)}()"
            if not name.startswith("__"):
                names.add(name.casefold())
    return names


def _heading_parts(heading: str) -> list[str]:
    return [p.strip() for p in heading.split(" > ") if p.strip()]


def noun_phrase(heading: str, material: Material) -> str:
    """A heading as a noun phrase to put after a verb: markup, numbering and a trailing "?" or ":" off, and
    capitalized common words in lower case ("Measures of Spread" -> "measures of spread")."""
    text = strip_inline(heading).strip().rstrip("?:.!").strip()
    text = re.sub(r"^\d+(\.\d+)*\.?\s+", "", text)  # "2.1 Variables" -> "Variables"
    text = _GENERIC_HEADING.sub("", text).strip() or text  # "Probability basics" -> "Probability"
    return material.in_running_text(text)


def _term_name(term: Term, material: Material) -> str:
    """As it reads inside a sentence: "Data filtering", bold at the start of one, is "data filtering"; code
    keeps its case."""
    if term.kind == "code":
        return term.text
    return material.in_running_text(term.text) if term.kind != "phrase" else term.text.casefold()


# ------------------------------------------------------------------------------------------------ forms


def _forms(concept: Concept, material: Material, definitions: dict[str, Definition]) -> list[Candidate]:
    """The objectives a concept supports, by what its sentences do (see the module docstring)."""
    sentences = [s for s in concept.sentences if not is_setup(s)]
    if not sentences:
        return []
    roles = {s: sentence_role(s) for s in sentences}
    subject = _with_article(concept.name, material)
    core = re.sub(r"^(?:the|a|an) ", "", concept.key)
    out: list[Candidate] = []

    main = concept.prior >= MAIN_PRIOR

    def add(text: str, evidence: Sentence, weight: float) -> None:
        verb = text.split()[0]
        out.append(
            Candidate(finish(text), (evidence.chunk_id,), concept.prior * weight, concept.key, verb, main)
        )

    action = _action(concept, sentences)
    # A heading's topic is named as its sentence names it ("a nested decision statement checks ...").
    named = subject if concept.term or not action else material.in_running_text(action.subject)
    explained = _explained(action, named) if action else ""
    if concept.heading and re.match(r"(?i)why\s", concept.heading):
        if reason := _reason(concept, sentences, material):  # "Explain why Python" alone is a fragment
            add(*reason, 0.8)
        return out
    if concept.heading and (activity := _activity(concept.heading, material)):
        add(activity, sentences[0], 1.0)
        if explained:  # "Explain how raising an exception forces ..."
            add(explained, action.sentence, 0.9)
        return out  # a heading naming an activity is that activity, not a thing to define or compare
    if re.match(r"^(?:the )?(?:types|kinds|classes|categories|forms) of ", concept.key):
        add(*_classification(concept, sentences, material), 1.0)
        return out
    purpose = next((s for s in sentences if _used_for(s, core)), None)
    if purpose is not None:  # named as the sentence names it: "a while loop", not the keyword "while"
        named, goal = usage(purpose)
        add(f"Use {_lower_article(noun_phrase(named, material))} {goal}", purpose, 1.0)
    formula = next((s for s in sentences if roles[s] == "formula" and _calculation_of(core, s)), None)
    if formula is not None:
        add(f"Calculate {subject}", formula, 0.95)
    contrast = _contrast(concept, sentences, roles, material) if concept.term else None
    if contrast:
        add(*contrast, 0.95)
    definition = definitions.get(core)
    if definition is not None and definition.sentence not in sentences:
        definition = None
    if explained:
        if action.term.group == "function":  # what a function does is what one uses it for: apply it first
            predicate = explained.split(f" {action.verb.casefold()} ", 1)[1]
            predicate = _coordinated_verbs(predicate)
            function = _lower_article(action.subject)  # "the split() method"
            add(f"Use {function} to {_purpose(action.verb)} {predicate}", action.sentence, 0.9)
            add(explained, action.sentence, 0.85)
        else:
            add(explained, action.sentence, 0.9)
    if definition is not None:
        add(f"Define {_lower_article(noun_phrase(definition.subject, material))}", definition.sentence, 0.85)
    if concept.heading:
        if main or not out:  # the main topic is both explained and, above, applied
            add(*_section_form(concept, subject, sentences, roles, material), 0.8)
        if _usable(concept.name) and (shown := _demonstration(concept, material)):
            add(f"Use {subject}", shown, 0.75)  # the section shows it at work: apply it, beside explaining it
    elif not out and concept.term is not None and _nameable(concept.term):
        # A marked-up term the material neither defines nor explains: name it, or use it if it is a function.
        verb = "Use" if concept.term.text.endswith("()") else "Identify"
        add(f"{verb} {subject}", sentences[0], 0.7)
    return out


def _reason(concept: Concept, sentences: list[Sentence], material: Material) -> tuple[str, Sentence] | None:
    """ "Why visualization?" answered by the most central sentence that says something whole of its topic:
    "Explain why data visualization has a crucial role in data science ..."; None when none does."""
    topic = re.escape(re.sub(r"(?i)^why\s+", "", concept.name))
    statement = re.compile(
        rf"^(?P<subject>(?:[\w-]+\s+){{0,2}}?{topic})\s+(?P<verb>is|are|has|have|{VERB_S})\s+"
        r"(?P<rest>.+?)[.!]?$",
        re.IGNORECASE,
    )
    found = []
    for sentence in sentences:
        match = statement.match(sentence.plain.strip())
        rest = clause(match["rest"], max_words=MAX_PREDICATE_WORDS, whole=True) if match else ""
        if rest:
            subject = material.in_running_text(match["subject"])
            text = f"Explain why {subject} {match['verb'].casefold()} {rest}"
            found.append((float(material.centrality[sentence.order]), text, sentence))
    if not found:
        return None
    _, text, sentence = max(found, key=lambda f: f[0])
    return text, sentence


def _heading_names(name: str) -> list[Term]:
    """How sentences name a heading's topic: "nested decision statements" also as "nested decision statement",
    and an act "raising exceptions" also as "raising an exception"."""
    words = name.split()
    if not words:
        return []
    singular = [*words[:-1], _singular(words[-1])]
    forms = [name, " ".join(singular)]
    if names_an_act(name):
        forms += [f"{words[0]} {article} {' '.join(singular[1:])}" for article in ("a", "an", "the")]
    return [Term(form, "phrase", 0.0, ()) for form in dict.fromkeys(forms)]


def _demonstration(concept: Concept, material: Material) -> Sentence | None:
    """A sentence of the concept's own section (not a subsection) in a chunk that shows code."""
    coded = {chunk_id for _, chunk_id in material.code}
    own = (s for s in concept.sentences if _heading_parts(s.heading)[-1:] == [concept.heading])
    return next((s for s in own if s.chunk_id in coded and not is_setup(s)), None)


def _usable(name: str) -> bool:
    """A construct, tool or technique one can use ("nested for loops", "list comprehensions"), not a problem,
    a quality or a topic about something ("floating-point errors", "mutability", "benefits of functions")."""
    if names_an_act(name):
        return False  # the heading's own form ("Loop on a dictionary") already covers an act
    words = name.casefold().split()
    head = words[words.index("of") - 1] if "of" in words[1:] else words[-1]
    return head not in _NOT_USABLE and not head.endswith(("ity", "ness", "ance", "ence"))


_NOT_USABLE = frozenset(
    """error errors problem problems issue issues collision collisions benefit benefits advantage advantages
    disadvantage disadvantages property properties characteristic characteristics history background
    importance overview basics introduction difference differences limitation limitations risk risks career
    careers purpose role roles""".split()
)


def _coordinated_verbs(predicate: str) -> str:
    """The verbs coordinated with a predicate's own, in the base form as well: "or keeps the order" -> "or keep
    the order"; later in the predicate only verbs we know ("the next line and returns a string")."""

    def base(match: re.Match[str]) -> str:
        verb = base_form(match[2])
        return f"{match[1]} {verb}" if match.start() == 0 or verb in KNOWN_VERBS else match[0]

    return re.sub(r"\b(and|or) (\w+s)\b", base, predicate)


def _action(concept: Concept, sentences: list[Sentence]) -> Definition | None:
    """The first sentence saying what the concept does ("A for loop iterates over ...", "Raising an exception
    forces ..."), not what it is."""
    names = [concept.term] if concept.term else _heading_names(concept.name)
    statements = (subject_statement(name, s) for s in sentences for name in names)
    # "X allows you to Y" is what X is used for: `usage` makes it "Use X to Y", never "Explain how X allows".
    return next(
        (d for d in statements if d and not d.copular and d.verb.casefold() not in ENABLING_VERBS), None
    )


def _nameable(term: Term) -> bool:
    """A function ("round()") or a bold multi-letter term that is not a common word of the text."""
    if term.kind == "code":
        return term.text.endswith("()")
    return (
        term.kind == "bold"
        and len(term.key) >= 4
        and term.key not in _COMMON_WORDS
        and not _adjective(term.key)
    )


def _section_form(concept, subject, sentences, roles, material) -> tuple[str, Sentence]:
    """A section without a term of its own: the verb by what most of its sentences do."""
    calculations = [s for s in sentences if roles[s] == "formula"]
    if len(calculations) >= 2 and len(calculations) * 4 >= len(sentences):
        rule_like = re.search(
            r"^(?:the )?(?:\w+ )?(rules?|laws?|methods?|formulas?|theorems?|principles?)\b",
            concept.name,
            re.I,
        )
        return f"{'Apply' if rule_like else 'Calculate'} {subject}", calculations[0]
    parts = re.split(r"\s+(?:and|vs\.?|versus)\s+", concept.name)
    contrasts = [s for s in sentences if roles[s] == "contrast"]
    if contrasts and len(parts) == 2 and "," not in concept.name:
        first, second = (_with_article(p, material) for p in parts)
        return f"Distinguish between {first} and {second}", contrasts[0]
    processes = [s for s in sentences if roles[s] == "process"]
    if len(processes) * 3 >= len(sentences):
        return f"Describe {subject}", processes[0]
    return f"Explain {subject}", sentences[0]


_QUANTITY = (
    r"(?:equals?|is calculated|are calculated|is computed|are computed|is obtained|is found|is given by|"
    r"(?:is|are) (?:the )?(?:sum|average|mean|ratio|product|square root|difference|number|count|proportion|"
    r"share|percentage|fraction) of)"
)


def _calculation_of(key: str, sentence: Sentence) -> bool:
    """The sentence says how `key` is computed: "the standard error equals ...", "the mean is the sum of
    ...", "to compute the z-score, ..."."""
    text = normalize(sentence.plain)
    name = re.escape(key)
    return bool(
        re.match(rf"^(?:(?:the|a|an|each|every|this|its|their) )?{name} (?:\w+ )?{_QUANTITY}", text)
        or re.search(rf"\bto (?:calculate|compute|find) (?:the |a |an )?{name}\b", text)
    )


def _activity(heading: str, material: Material) -> str:
    """ "Counting with a while loop" -> "Count with a while loop", "How to read errors" -> "Read errors": a
    heading that names what to do."""
    words = strip_inline(heading).split()
    if len(words) >= 3 and " ".join(words[:2]).casefold() == "how to":
        verb = words[2].casefold()
        if verb in KNOWN_VERBS or verb + "s" in {w for s in material.sentences for w in words_of(s.plain)}:
            return f"{verb.capitalize()} {noun_phrase(' '.join(words[3:]), material)}"
        return ""
    if not words or not words[0].casefold().endswith("ing") or len(words) < 2:
        return ""
    verb = _base_verb(words[0].casefold(), material)
    if not verb:
        return ""
    rest = noun_phrase(" ".join(words[1:]), material)
    # "Creating tuples and accessing elements" -> "Create tuples and access elements"
    rest = re.sub(r"\b(and|or) (\w+ing)\b", lambda m: f"{m[1]} {_base_verb(m[2], material) or m[2]}", rest)
    return f"{verb.capitalize()} {rest}"


def _base_verb(gerund: str, material: Material) -> str:
    """The base form of an -ing word, when the verb list or the material knows it as a verb ("defining" ->
    "define", "running" -> "run" from "runs"); "" otherwise ("string")."""
    if gerund in _GERUND_EXCEPTIONS:
        return _GERUND_EXCEPTIONS[gerund]
    stem = gerund[:-3]
    if len(stem) < 2:
        return ""
    undoubled = stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz" else ""
    options = [o for o in (stem, stem + "e", undoubled) if o]
    vocabulary = {w for s in material.sentences for w in words_of(s.plain)}
    for option in options:
        if option in KNOWN_VERBS:
            return option
    inflected = [o for o in options if len(o) >= 3 and {o + "s", o + "es", o + "ed", o + "d"} & vocabulary]
    # "reverses" fits both "revers" and "reverse": the form the material also writes bare wins.
    return next((o for o in inflected if o in vocabulary), inflected[0] if inflected else "")


def _contrast(concept, sentences, roles, material) -> tuple[str, Sentence] | None:
    for sentence in sentences:
        if roles[sentence] != "contrast":
            continue
        peers = [
            t
            for t in terms_in(sentence.plain, material.terms)
            if t.key != concept.key and t.key not in concept.key and concept.key not in t.key
        ]
        peers = [t for t in peers if _peers(concept.term, t, material)]
        if peers:
            first = _with_article(concept.name, material)
            second = _with_article(_term_name(peers[0], material), material)
            return f"Compare {first} and {second}", sentence
    return None


def _peers(term: Term, other: Term, material: Material) -> bool:
    """Two things one can compare: the same kind of thing ("for loop" / "while loop"), or two terms the
    material defines."""
    same_head = len(term.key.split()) >= 2 and term.key.split()[-1] == other.key.split()[-1]
    both_defined = term.key in material.definitions and other.key in material.definitions
    both_marked = term.kind == other.kind == "bold" and {term.key, other.key} <= material.nouns
    return other.kind != "phrase" and (same_head or both_defined or both_marked) and not _adjective(other.key)


def _adjective(key: str) -> bool:
    return len(key.split()) == 1 and key.endswith(("able", "ible", "ive", "al", "ous", "ful", "less", "ic"))


def _classification(concept, sentences, material) -> tuple[str, Sentence]:
    """ "Types of variables" with "categorical variable" and "numerical variable" marked up:
    "Classify variables as categorical or numerical"; without such terms "Identify the types of variables"."""
    evidence = next((s for s in sentences if sentence_role(s) == "classification"), sentences[0])
    name = re.sub(r"^(the\s+)?(types|kinds|classes|categories|forms)\s+of\s+", "", concept.name, flags=re.I)
    head = _singular(name.split()[-1].casefold()) if name.split() else ""
    kinds: list[str] = []
    for term in material.terms:
        words = term.text.split()
        if len(words) >= 2 and _singular(words[-1].casefold()) == head and term.kind != "phrase":
            modifier = " ".join(words[:-1])
            if modifier.casefold() not in (k.casefold() for k in kinds) and normalize(modifier) != "the":
                kinds.append(modifier)
    if len(kinds) >= 2:
        text = " ".join(s.plain.casefold() for s in material.sentences)
        kinds = sorted(kinds[:3], key=lambda k: (text.find(k.casefold()) % (len(text) + 1), k))
        return f"Classify {_plural(name)} as {', '.join(kinds[:-1])} or {kinds[-1]}", evidence
    return f"Identify the types of {_plural(name)}", evidence


def _explained(definition: Definition, subject: str) -> str:
    """ "A for loop iterates over the elements of a sequence." -> "Explain how a for loop iterates over the
    elements of a sequence"; "" when the predicate is a definition or too long to use whole."""
    if definition.copular:
        return ""
    predicate = clause(definition.predicate, max_words=MAX_PREDICATE_WORDS, whole=True)
    if not predicate or len(predicate.split()) < 2:
        return ""
    return f"Explain how {subject} {definition.verb.casefold()} {predicate}"


# ------------------------------------------------------------------------------------------------ words


def _with_article(name: str, material: Material) -> str:
    """The article the material puts before the name ("the median", "a while loop"), or none."""
    if name.split()[0].casefold() in ("a", "an", "the") or not name[:1].isalpha():
        return name
    counts = {"a": 0, "an": 0, "the": 0, "": 0}
    needle = re.escape(name.casefold())
    for sentence in material.sentences:
        for match in re.finditer(rf"(?:\b(a|an|the)\s+)?\b{needle}\b", sentence.plain.casefold()):
            counts[match.group(1) or ""] += 1
    article = max(("the", "a", "an", ""), key=lambda a: (counts[a], a == ""))
    if article in ("a", "an"):  # "a while loop" in a definition; an objective speaks of the construct
        article = "the" if counts["the"] else article
    return f"{article} {name}".strip() if counts[article] else name


def base_form(verb: str) -> str:
    """The base form of a verb in the third person singular: "returns" -> "return", "applies" -> "apply",
    "matches" -> "match", "uses" -> "use"."""
    verb = verb.casefold()
    if verb in ("is", "has", "does", "goes"):
        return {"is": "be", "has": "have", "does": "do", "goes": "go"}[verb]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") else verb


def _purpose(verb: str) -> str:
    """What a function does, as what one uses it for: "splits" -> "split"; "returns" or "provides" -> "get"."""
    verb = verb.casefold()
    return "get" if verb in ("returns", "provides", "gives", "yields") else base_form(verb)


def _lower_article(subject: str) -> str:
    first, _, rest = subject.partition(" ")
    return f"{first.casefold()} {rest}" if first.casefold() in ("a", "an", "the") and rest else subject


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _plural(name: str) -> str:
    last = name.split()[-1]
    if last.endswith("s"):
        return name
    return name + ("es" if last.endswith(("x", "ch", "sh")) else "s")


def finish(text: str) -> str:
    """One line, no trailing punctuation, capitalized."""
    text = " ".join(strip_inline(text).split()).rstrip(" .,;:")
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------------------------ choosing


def _pick(
    candidates: list[Candidate], scores: np.ndarray, vectors: np.ndarray, avoid: np.ndarray, count: int
) -> list[int]:
    """MMR over the candidates (texts to avoid are anchors: near-duplicates > 0.9 drop), one per concept (the
    main one may add one at another level), and a verb already used twice only when nothing else is left."""
    picked: list[int] = []
    concepts: dict[str, set[str]] = {}  # concept -> verbs of its objectives
    verbs: dict[str, int] = {}
    anchors = [avoid[i] for i in range(len(avoid))]
    for relaxed in (False, True):
        while len(picked) < count:
            best, best_score = -1, -np.inf
            for i, candidate in enumerate(candidates):
                taken = [v for c, vs in concepts.items() if _overlaps(candidate.concept, c) for v in vs]
                if i in picked or (taken and not _second_of_main(candidate, taken)):
                    continue
                if not relaxed and verbs.get(candidate.verb, 0) >= 2:
                    continue
                redundancy = max((float(a @ vectors[i]) for a in anchors), default=0.0)
                if redundancy > 0.9:
                    continue
                score = 0.7 * scores[i] - 0.3 * redundancy
                if score > best_score + 1e-9:
                    best, best_score = i, score
            if best < 0:
                break
            picked.append(best)
            concepts.setdefault(candidates[best].concept, set()).add(candidates[best].verb)
            verbs[candidates[best].verb] = verbs.get(candidates[best].verb, 0) + 1
            anchors.append(vectors[best])
    return picked


_UNDERSTAND = frozenset(
    "Define Explain Describe Identify Recognize Recall Summarize Discuss State Name".split()
)


def _second_of_main(candidate: Candidate, taken: list[str]) -> bool:
    """The module's main concept gets a second objective at another level (understand it, then apply it)."""
    level = candidate.verb in _UNDERSTAND
    return candidate.main and len(taken) == 1 and level != (taken[0] in _UNDERSTAND)


def _overlaps(a: str, b: str) -> bool:
    """ "for loop" and "the for loop" are one concept; "loop" and "for loop" are two."""
    return a == b or a.removeprefix("the ") == b.removeprefix("the ")


def _objective(candidate: Candidate, module_key: str) -> Objective:
    digest = hashlib.sha1(f"{module_key}\n{candidate.text}".encode(), usedforsecurity=False).hexdigest()
    return Objective(id=f"lo-{digest[:10]}", text=candidate.text, chunk_ids=candidate.chunk_ids)


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    out = []
    for candidate in candidates:
        key = candidate.text.casefold()
        if key not in seen:
            seen.add(key)
            out.append(candidate)
    return out
