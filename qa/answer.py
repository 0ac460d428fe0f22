"""Answer-sentence selection, matched terms, and the "no credible evidence" decision."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np
import numpy.typing as npt

from index.paragraphs import heading_context
from index.sentence_terms import MISSING, StoredSentences
from index.tokenize import join_broken_words, span_terms, stem, term_spans, tokenize, word_spans, word_terms
from qa.question_terms import demonym_places, held_terms, question_names
from qa.table_headers import NO_TABLES, PassageTables
from qa.types import Sentence, Verdict

if TYPE_CHECKING:
    from index.corpus_index import CorpusIndex

TermT = TypeVar("TermT")  # a term as text or as its vocabulary id

SENTENCE_DENSE_WEIGHT = 0.3  # sentence score = w * cosine + (1 - w) * idf-weighted term coverage


@dataclass(frozen=True)
class CredibilityRule:
    """Evidence is credible when the best passage is close in meaning to the question, moderately close
    and covering most of the question's rarest words, or holding every key word of the question and not
    far in meaning (a short question against a long sentence scores a low cosine even when the sentence
    answers it: "Who did the weapons store belong to?" -> "...a militant weapons store ... that belongs
    to Hayat Tahrir al-Sham (HTS) militia ...", cosine 0.29)."""

    strong_cosine: float = 0.55
    weak_cosine: float = 0.30
    min_coverage: float = 0.5
    floor_cosine: float = 0.20  # with (nearly) every key word of the question in the passage
    full_coverage: float = 0.95

    def judge(self, cosine: float, coverage: float, unseen_names: Sequence[str] = ()) -> tuple[Verdict, str]:
        """The verdict on the best passage. A question that names something the corpus never mentions
        (`unseen_names`: "How many engineers are at the Paris office?" over notes on Warsaw and Lisbon) is
        not answered on closeness in meaning alone: the passage must hold its other words too."""
        facts = f"similarity {cosine:.2f}, {coverage:.0%} of the question's key terms found"
        if (
            (cosine >= self.strong_cosine and (not unseen_names or coverage >= self.min_coverage))
            or (cosine >= self.weak_cosine and coverage >= self.min_coverage)
            or (cosine >= self.floor_cosine and coverage >= self.full_coverage)
        ):
            return "answered", facts
        if unseen_names:
            names = ", ".join(f"'{name}'" for name in unseen_names)
            return "no_credible_evidence", f"nothing in the corpus mentions {names}: {facts}"
        return "no_credible_evidence", f"no passage matches the question well ({facts})"

    def rests_on_meaning(self, cosine: float, coverage: float) -> bool:
        """Whether `judge` answers on closeness in meaning alone, which a name unseen in the corpus undoes."""
        return cosine >= self.strong_cosine and coverage < self.min_coverage


def unseen_names(question: str, known: Callable[[list[str]], AbstractSet[str]]) -> list[str]:
    """The names `question` writes (`qa.question_terms.question_names`) some term of which `known` (the
    index's vocabulary) lacks, each once; a demonym counts as known when its place is."""
    names = question_names(question)
    held = held_terms({t for name in names for t in tokenize(name)}, known)
    return list(dict.fromkeys(n for n in names if not all(t in held for t in tokenize(n))))


MIN_TERM_WEIGHT = 0.05  # a question term weighs at least this in coverage, whatever its idf


def term_weights(query_terms: list[str], idf: Mapping[str, float], n_passages: int) -> dict[str, float]:
    """idf of each distinct query term, at least `MIN_TERM_WEIGHT`; a term the corpus never uses weighs as
    much as a term that occurs in one passage (the highest idf there is). The floor matters in a corpus of
    a few passages, where BM25's idf is 0 for a word in half of them and below 0 for a commoner one: the
    question's words then still count, about equally, instead of weighing nothing (a coverage of 0%)."""
    unseen = math.log(max(n_passages, 1) - 1 + 0.5) - math.log(1.5)
    return {term: max(idf.get(term, unseen), MIN_TERM_WEIGHT) for term in dict.fromkeys(query_terms)}


def index_term_weights(index: CorpusIndex, query_terms: list[str]) -> dict[str, float]:
    """`term_weights` with the idf of `index`."""
    known = index.term_info(query_terms)
    return term_weights(query_terms, {t: idf for t, (_, idf) in known.items()}, index.size)


def term_keys(known: Mapping[str, tuple[int, float]], terms: Iterable[str]) -> dict[str, int]:
    """The key of each term when sentences' terms are the ids the index stored: its vocabulary id
    (`known`: `CorpusIndex.term_info`), or for a term the vocabulary lacks a negative id that no stored
    sentence holds (one per term)."""
    keys = {term: term_id for term, (term_id, _) in known.items()}
    for term in terms:
        keys.setdefault(term, -2 - len(keys))
    return keys


def covered_share(weights: Mapping[TermT, float], present: AbstractSet[TermT]) -> float:
    """Share of the query's idf mass whose terms are among `present`."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for term, w in weights.items() if term in present) / total


def coverage(text: str, weights: Mapping[str, float]) -> float:
    """Share of the query's idf mass whose terms occur in `text`; a demonym of the question occurs where its
    place does ("the Rwandan genocide" in "from Rwanda ... the 1994 genocide")."""
    present = set(span_terms(text))
    present.update(t for t in weights if t not in present and any(p in present for p in demonym_places(t)))
    return covered_share(weights, present)


def matched_terms(text: str, weights: Mapping[str, float]) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """Query words as they appear in `text` (distinct, in order of appearance) and every place they occur."""
    words: dict[str, None] = {}
    spans: list[tuple[int, int]] = []
    for term, start, end in term_spans(text):
        if term in weights:
            words.setdefault(join_broken_words(text[start:end]).lower(), None)
            spans.append((start, end))
    return tuple(words), tuple(spans)


def heading_only_terms(section: str, weights: Mapping[str, float], found: Sequence[str]) -> tuple[str, ...]:
    """Query words as the section heading writes them, that the passage itself does not hold (`found`: the
    passage's `matched_terms`): what the heading, read as context, added."""
    if not section:
        return ()
    held = {term for word in found for term in word_terms(word)}
    words, _ = matched_terms(heading_context(section), weights)
    return tuple(word for word in words if not set(word_terms(word)) <= held)


def stored_matched_terms(
    text: str, sentences: StoredSentences, question_ids: AbstractSet[int], weights: Mapping[str, float]
) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """`matched_terms(text, weights)` read off the term ids the index stored for the passage's sentences
    (`question_ids`: the ids of the question's terms the vocabulary holds): only the sentences holding
    one are looked at, and only the words a stored id marks are placed (a word whose term the vocabulary
    lacks is stemmed and looked up in `weights`)."""
    words: dict[str, None] = {}
    spans: list[tuple[int, int]] = []
    for (part_start, part_end), ids in zip(sentences.spans, sentences.terms, strict=True):
        wanted = {i for i, term in enumerate(ids) if term in question_ids or term == MISSING}
        if not wanted:
            continue
        last = max(wanted)
        part = text[part_start:part_end]
        for i, (word, start, end) in enumerate(word_spans(part)):
            if i in wanted and (ids[i] != MISSING or stem(word) in weights):
                words.setdefault(join_broken_words(part[start:end]).lower(), None)
                spans.append((part_start + start, part_start + end))
            if i == last:
                break
    return tuple(words), tuple(spans)


def best_sentence(
    text: str,
    offset: int,
    spans: Sequence[tuple[int, int]],
    weights: Mapping[str, float] | Mapping[int, float],
    query_vector: npt.NDArray[np.float32] | None,
    sentence_vectors: npt.NDArray[np.float32] | None,
    sentence_terms: Sequence[Sequence[int]] | None = None,
    tables: PassageTables = NO_TABLES,
    prefer: Callable[[str], bool] | None = None,
) -> Sentence:
    """The sentence of a passage that best answers the question. `offset` is the passage's char_start
    in its file; `sentence_vectors` holds one unit vector per span (or None for lexical choice only);
    `sentence_terms`, the ids of each sentence's terms as the index stored them (`weights` then keyed by
    `term_keys`), spares tokenizing the sentences. A table's row is read under its header row (`tables`:
    the header's terms count as the row's, its cosine is averaged with the row's, and the chosen row
    carries it); a header row or separator is no answer of its own while its table has rows. With `prefer`,
    only the sentences it accepts are chosen from, when there are any (those holding a time for "When?")."""
    term_weights = cast(Mapping[object, float], weights)
    candidates: Sequence[int] = range(len(spans))
    if tables.labels:
        candidates = [i for i in candidates if i not in tables.labels] or candidates
    if prefer is not None:
        candidates = [i for i in candidates if prefer(text[spans[i][0] : spans[i][1]])] or candidates
    best_index, best_score = candidates[0], -np.inf
    for i in candidates:
        if sentence_terms is not None:
            terms: set[object] = set(sentence_terms[i])
        else:
            terms = set(span_terms(text[spans[i][0] : spans[i][1]]))
        header = tables.headers.get(i) if tables.headers else None
        if header is not None:
            terms |= header.terms
        lexical = covered_share(term_weights, terms)
        if query_vector is not None and sentence_vectors is not None:
            cosine = float(sentence_vectors[i] @ query_vector)
            if header is not None and header.vector is not None:
                cosine = (cosine + float(header.vector @ query_vector)) / 2
            score = SENTENCE_DENSE_WEIGHT * cosine + (1 - SENTENCE_DENSE_WEIGHT) * lexical
        else:
            score = lexical
        if score > best_score:
            best_index, best_score = i, score
    start, end = spans[best_index]
    header = tables.headers.get(best_index)
    return Sentence(text[start:end], offset + start, offset + end, None if header is None else header.sentence)
