"""Retrieval for a question asked inside a conversation: search with the topic's context, decide whether
the question really follows up, and let the context choose the documents and the question the passages.

Wraps the plain retriever (`qa.retrieve.Retriever`) without changing it:

1. The contextual search: BM25 over the question's own terms (weight 1) plus the words carried from the
   topic's earlier questions (weight `carried_term_weight` x their recency weight, always below 1), and a
   dense query that mixes the question's own embedding (`question_vector_weight`) with the embedding of the
   topic's earlier questions followed by this one. Fused and re-ranked exactly as a standalone question is.
   The question is also searched alone, as without a conversation.
2. Follow-up or not, judged on the document the contextual search puts first (the topic document):
   - a complete question (no referring word, enough content words) whose own search finds the same
     document needs no context: it is answered alone, and the topic goes on if that document gave the
     latest answer (otherwise it begins a new topic);
   - a question without a referring word whose own words name what its own search's first passage is under
     (its section heading, or its document's title line: "What is a lambda?" after questions on decorators,
     found in "Lambdas") begins a new topic, unless the passage just read is under it too;
   - the topic document holds at least `topic_coverage` of the question's own idf mass: follow-up;
   - a question without a personal pronoun that names someone or something (a capitalised word past its
     start) the topic document never mentions, while the document its own search puts first does ("What
     did Putin say?" after questions about Lavrov), is about something else: answered alone, a new topic;
   - a complete question that the topic document holds less of, whose own search prefers another document,
     and that names something rare the topic document lacks and that document holds ("What did Zakharova
     say ...?" after questions about a deal Zakharova is not part of), is about something else: answered
     alone, and a new topic;
   - a question that refers back (a referring word, or too few content words), names such a rare thing
     ("And the sourdough?"), and whose both retrievers, searching it alone, clearly prefer another document
     (the topic document's best BM25 score below `elsewhere_bm25_ratio` x the best, its best cosine more
     than `elsewhere_dense_gap` below the best) is answered alone, and the topic's words stay available to
     the next question;
   - anything else is a follow-up: too vague to point anywhere by itself, or naming only common things
     ("Is everyone permitted in the garden?", "What is the first way?"), which the question alone finds in
     many documents and the right one seldom first. A rare term is one whose idf is at least
     `rare_term_idf_share` of the highest an index of N passages can give, ln(N + 1): in at most about
     N^0.3 passages (13 of abg-coqa's 5,480, 3 of the seeds' 66). Without it (the two rules above on any
     word), abg-coqa val follow-ups were answered alone in 34 target turns and found the story in 5 of them
     (all earlier questions prepended: 21); with it, follow-ups hit@1 0.394 -> 0.411, hit@5 0.551 -> 0.571,
     switch 0.365 -> 0.379 / 0.516 -> 0.533, drift 0.201 -> 0.201 / 0.313 -> 0.307.
3. A follow-up's documents are asked every question of the topic (hybrid and dense modes): the first
   `story_depth` documents of the contextual ranking are re-ordered by their fused score (scaled to [0, 1]
   over them) plus `story_sentence_weight` x the mean, over the topic's earlier questions and this one, of
   the best cosine of one of the document's sentences (stored at index time) to each question. The
   questions of one conversation are about one story, and a story holding a sentence close to every one of
   them is likelier the one than a story matching one question's words well (abg-coqa val follow-ups hit@1
   0.378 -> 0.394, hit@5 0.524 -> 0.551; drift 0.203 -> 0.201; switch 0.359 -> 0.365).
   Then the follow-up keeps the contextual ranking's sequence of documents, but each slot shows that document's
   passage with the best sum of its ranks in the question's own ranking and in the contextual one: the
   context picks the story, the question's own words, with the context's, the paragraph within it (a tie
   goes to the question's own ranking). By own words alone, abg-coqa's first passage held the rationale
   in 250 of val's target turns, by the sum in 255 (test: 225 -> 228). In a document with section
   headings the unit is the section: a manual's `cache.flush()` and `cache.load()` both have a `timeout`,
   and the context says which one "its" is.
   A follow-up that refers back with a referring word ("Were there any compatibility notes in that
   release?") and whose own words the latest answer's document holds stays in that document, even when the
   carried words rank another first: the user asks about what they just read (one that is only short goes
   where the contextual search goes). A follow-up that speaks of it with a personal
   pronoun ("And what is its status?" after the part of a table about Oslo) or in too few words to stand
   alone ("How many counts?" after the passage on the conviction) starts with the passage just read, when
   that passage (its heading and a table's header counted) holds `topic_coverage` of the question's own idf
   mass (abg-coqa val: the first passage holds the rationale in 264 target turns, 261 without; 270 rather
   than 269 once too few words count as well as a pronoun).
   The retrieval also hands on the question's own vector, with which the engine picks each passage's
   answer sentence (`qa.engine.QAEngine.compose`; the carried words weigh a tenth there, to break ties:
   val's highlighted sentence on the rationale 174 -> 177 of 261).

Settings were chosen on the validation split of abg-coqa (with its topic-drift set) and the seed
conversations, never on the test split. Every ranking breaks ties on the search row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from index.catalog import PassageRecord
from index.corpus_index import CorpusIndex
from index.embed import Embedder
from index.tokenize import span_terms, tokenize, word_terms
from qa.answer import covered_share, index_term_weights
from qa.answer_kind import follow_up_kind, holds_follow_up_kind
from qa.conversation import TopicContext, describe_query, referring_terms
from qa.document_terms import DocumentTerms
from qa.duplicates import collapse_copies, distinct_head, text_key
from qa.question_terms import as_written, held_terms, question_names, question_terms
from qa.retrieve import (
    CANDIDATE_DEPTH,
    Candidate,
    Retrieval,
    Retriever,
    SearchQuery,
    heading_terms,
    passage_context,
)
from qa.types import Mode

STORY_PASSAGES = 64  # a longer document is asked the topic's questions through its passages among the candidates
NAMED_SECTION_SHARE = 2 / 3  # a question names a section when it holds this share of its heading's terms


@dataclass(frozen=True)
class ContextSettings:
    carried_term_weight: float = 0.8  # BM25 weight of a carried word (x its recency weight); own words weigh 1
    question_vector_weight: float = 0.3  # dense query: this x the question's vector + the rest x the context's
    topic_coverage: float = 0.7  # follow-up when the topic document holds this share of the question's idf mass
    # Otherwise the question alone "points elsewhere" when both retrievers prefer another document clearly:
    elsewhere_bm25_ratio: float = 0.7  # topic document's best BM25 score < this x the best BM25 score
    elsewhere_dense_gap: float = 0.2  # topic document's best cosine < the best cosine - this
    # ... and only a question naming a rare term the topic document lacks and the question alone's holds points
    # elsewhere: idf >= this x ln(N + 1), N the passages indexed (0: any term)
    rare_term_idf_share: float = 0.7
    # a short question without a referring word ("What did Peskov say about the cease-fire?") that finds by itself
    # the document the context finds, not the latest answer's, and names a rare term the latest answer's lacks:
    # a new topic, as a complete question finding another document is
    short_question_moves_on: bool = True
    # in a document with sections (a manual), a question without a referring word that the section the context
    # found does not hold (`topic_coverage`), while both retrievers of the question alone clearly prefer passages
    # outside that section, is answered alone and begins a topic, whatever the whole document holds
    section_moves_on: bool = True
    # a short question without a referring word whose own search puts first the passage the context finds, under a
    # heading naming one of its words, in another document than the latest answer's (which lacks its words): a new
    # topic ("How do I define a class?" after lambdas, found in "Class definitions")
    same_passage_moves_on: bool = True
    # a question without a referring word whose own words name what its own search's first passage is under (its
    # section's heading, or its document's title line when it is under none), where the passage just read is not:
    # a new topic ("What is a lambda?" after decorators, answered from "Lambdas", not from the decorators' document,
    # which mentions lambda expressions)
    named_section_moves_on: bool = True
    # the referring words that are no stopwords ("instead", "else", "another") are not searched for, nor the fillers
    # of a question that names nothing ("exactly" in "Where exactly?", "get" in "How do we get there?")
    drop_referring_terms: bool = True
    stay_in_last_document: bool = True  # a follow-up referring back stays in the latest answer's document
    stay_on_last_passage: bool = True  # "its status" after a passage holding it: that passage is shown first
    # a follow-up with no words of its own that asks for a time, a number or a place ("When?", "Where exactly?"): in
    # each document (section), the passages that hold one come first
    answer_kind_without_words: bool = True
    # a follow-up's documents are asked every question of the topic: each of the first `story_depth` documents of
    # its ranking gains this x the mean, over the topic's earlier questions and this one, of the best cosine of
    # one of its sentences to the question (0: off; the conversation is about one story, which should answer all)
    story_sentence_weight: float = 3.0
    story_depth: int = 20


@dataclass(frozen=True)
class ContextDecision:
    """Why a question was (not) treated as a follow-up, and what retrieval searched for."""

    follow_up: bool  # retrieval used the topic's context
    new_topic: bool  # the question clearly points elsewhere: later questions borrow nothing from before it
    reason: str
    query: str  # human-readable: the question, plus "[+ context: ...]" for a follow-up


def names(own_terms: set[str], section: str) -> bool:
    """Whether a question whose terms are `own_terms` names `section`: at least `NAMED_SECTION_SHARE` of the
    heading's terms ("Backward compatibility note" for "... any backward compatibility notes in that
    release?"; not `filehandle.close()` for "Does it close the file?")."""
    heading = heading_terms(section) if section else frozenset()
    return bool(heading) and len(heading & own_terms) >= NAMED_SECTION_SHARE * len(heading)


class ContextualRetriever:
    def __init__(
        self,
        index: CorpusIndex,
        embedder: Embedder,
        base: Retriever,
        settings: ContextSettings | None = None,
        depth: int = CANDIDATE_DEPTH,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.base = base
        self.settings = settings or ContextSettings()
        self.depth = depth
        self.documents = DocumentTerms(index)

    def retrieve(
        self, question: str, context: TopicContext | None, mode: Mode, k: int
    ) -> tuple[Retrieval, ContextDecision]:
        if context is None:
            return self.base.retrieve(question, mode, k), ContextDecision(False, True, "first question", question)
        s = self.settings
        started = time.perf_counter()
        own_terms = question_terms(question)
        if s.drop_referring_terms:  # "instead", "else": they point back; "Where exactly?" names nothing at all
            pointing = referring_terms(question)
            own_terms = [] if context.names_nothing else [t for t in own_terms if t not in pointing]
        vectors = self.embedder.embed_queries([question, f"{context.text} {question}".strip(), *context.questions])
        own_vector, context_vector = vectors[0], vectors[1]
        asked = np.vstack([vectors[2:], own_vector[None, :]])  # the topic's questions, then this one
        mixed = s.question_vector_weight * own_vector + (1 - s.question_vector_weight) * context_vector
        vector = (mixed / max(float(np.linalg.norm(mixed)), 1e-12)).astype(np.float32)
        embed_ms = (time.perf_counter() - started) * 1000

        carried: dict[str, float] = {}
        for word, weight in context.terms:
            for stem in word_terms(word):
                carried[stem] = max(carried.get(stem, 0.0), weight * s.carried_term_weight)
        query = SearchQuery(own_terms, vector, carried, text=question)
        depth = max(self.depth, k)
        contextual = self.base.search(query, mode, depth, distinct=False)  # rankings: copies folded at the end
        alone = self.base.search(SearchQuery(own_terms, own_vector, text=question), mode, depth, distinct=False)

        started = time.perf_counter()
        topic_row = contextual.candidates[0].row if contextual.candidates else None
        topic_doc = self.documents.of_row(topic_row) if topic_row is not None else None
        alone_row = alone.candidates[0].row if alone.candidates else None
        alone_doc = self.documents.of_row(alone_row) if alone_row is not None else None
        follow_up, new_topic, reason = self._decide(
            question, own_terms, own_vector, topic_doc, alone_doc, context, mode, topic_row, alone_row
        )
        decide_ms = (time.perf_counter() - started) * 1000
        if not follow_up:
            timings = {"embed": embed_ms, **alone.timings_ms, "decide": decide_ms}
            by_row = {c.row: c for c in alone.candidates}
            shown = [
                replace(by_row[row], duplicates=copies)
                for row, copies in distinct_head(list(by_row), k, self.index.passages)
            ]
            standalone = replace(alone, candidates=shown, timings_ms=timings)
            return standalone, ContextDecision(False, new_topic, reason, question)
        started = time.perf_counter()
        ordered = contextual.candidates
        if mode != "bm25":
            ordered = self._story_order(asked, ordered)
        story_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        if (kept := self._kept_document(own_terms, topic_doc, context)) is not None:
            ordered = self._led_by(kept, ordered)  # the question's own words choose its section there
            reason += "; it refers back and the latest answer's document holds it: the answer stays there"
        scores = [c.score for c in contextual.candidates]  # by rank: the slots' order changes, not their scale
        read = self._read_passage(own_terms, context, ordered)
        if read is not None:
            ordered = [c for c in ordered if c.row == read] + [c for c in ordered if c.row != read]
            reason += "; it speaks of the passage just read, which holds its words: that passage comes first"
        kind_order = self._answer_kind_order(question, own_terms, context)
        candidates = self._combine(alone.candidates, ordered, scores, own_terms, kept, read, kind_order)[:k]
        timings = {"embed": embed_ms, **contextual.timings_ms, "decide": decide_ms}
        timings["story"] = story_ms
        timings["combine"] = (time.perf_counter() - started) * 1000
        retrieval = Retrieval(candidates, own_terms + list(query.carried_terms()), vector, timings, own_vector)
        return retrieval, ContextDecision(True, False, reason, describe_query(question, context))

    def _combine(
        self,
        alone: list[Candidate],
        contextual: list[Candidate],
        scores: list[float],
        own_terms: list[str],
        kept: int | None = None,
        read: int | None = None,
        kind_order: Callable[[PassageRecord], tuple[bool, int]] | None = None,
    ) -> list[Candidate]:
        """The contextual ranking's sequence of documents (of sections, in documents that have them), each
        slot filled with that document's (section's) passage whose ranks in the question's own ranking and in
        the contextual one add up to the least (among those not shown yet): the context chooses the story, or
        the part of a manual, the question's own words with it the paragraph within it; `kind_order`, when
        given, orders them first (`_answer_kind_order`). The unit is the whole
        document when the question names the section of its own best passage there ("... backward
        compatibility notes in that release?", `names`), and in document `kept`. Slot i is given `scores[i]`
        (the contextual ranking's scores)."""
        own_rank = {c.row: rank for rank, c in enumerate(alone)}
        found = {c.row: c for c in contextual}  # what the search with context said of each row it found
        by_row = found | {c.row: c for c in alone}
        records = self.index.passages(list(by_row))
        context_rank = {c.row: rank for rank, c in enumerate(contextual)}
        topic_docs = {records[c.row].doc for c in contextual}
        own = set(own_terms)
        own_best: dict[int, int] = {}  # document -> its passage the question's own ranking likes best
        for c in alone:
            own_best.setdefault(records[c.row].doc, c.row)
        whole = {kept} | {
            doc for doc, row in own_best.items() if doc in topic_docs and names(own, self.index.section(records[row]))
        }

        def unit(row: int) -> tuple[int, str]:
            record = records[row]
            sectioned = record.doc in topic_docs and record.doc not in whole
            return record.doc, self.index.section(record) if sectioned else ""

        per_unit: dict[tuple[int, str], list[int]] = {}

        def rank_sum(row: int) -> tuple[bool, tuple[bool, int], int, int, int]:  # a tie goes to the own words
            own = own_rank.get(row, len(alone))
            first = (False, 0) if kind_order is None else kind_order(records[row])
            return row != read, first, own + context_rank.get(row, len(contextual)), own, row

        for row in sorted(by_row, key=rank_sum):
            per_unit.setdefault(unit(row), []).append(row)
        combined: list[Candidate] = []
        for slot, score in zip(contextual, scores, strict=True):
            row = per_unit[unit(slot.row)].pop(0)
            chosen = by_row[row]
            if row not in own_rank:  # the question alone did not find it: its own ranks say so
                chosen = replace(chosen, bm25_rank=None, bm25_score=None, dense_rank=None, dense_score=None)
            with_context = found.get(row)
            ranks = (None, None) if with_context is None else (with_context.bm25_rank, with_context.dense_rank)
            combined.append(replace(chosen, score=score, context_ranks=ranks))
        return collapse_copies(combined, records)  # each ranking is without copies, but not the two together

    def _decide(
        self,
        question: str,
        own_terms: list[str],
        own_vector: npt.NDArray[np.float32],
        topic_doc: int | None,
        alone_doc: int | None,
        context: TopicContext,
        mode: Mode,
        topic_row: int | None = None,
        alone_row: int | None = None,
    ) -> tuple[bool, bool, str]:
        """(follow-up, new topic, reason); `topic_row`: the contextual search's first passage (in `topic_doc`),
        `alone_row` the question alone's."""
        if topic_doc is None:
            return False, True, "the context finds nothing"
        if topic_doc == alone_doc and not context.cue:
            # the topic goes on only if this document gave the latest answer
            if self.index.document(topic_doc).path != context.last_document:
                return False, True, "a complete question that finds its document by itself, not the latest answer's"
            return False, False, "a complete question that finds the topic's document by itself"
        if topic_doc == alone_doc and (moved := self._moves_on(own_terms, topic_doc, context)):
            named = as_written(question, moved)
            reason = f"a short question that finds its document by itself, not the latest answer's ({named} only there)"
            return False, True, reason
        if alone_reason := self._found_alone(own_terms, topic_doc, topic_row, alone_row, context):
            return False, True, alone_reason
        if part := self._names_another_section(own_terms, alone_row, context):
            return False, True, f"it names the part its own words find ({part}), not the one just read"
        s = self.settings
        held = self._coverage(own_terms, topic_doc)
        if held >= s.topic_coverage:
            if moved_on := self._section_moves_on(own_terms, own_vector, topic_doc, topic_row, context, mode):
                return False, True, moved_on
            return True, False, f"the topic's document holds {held:.0%} of the question's words"
        names = frozenset(t for word in question_names(question) for t in word_terms(word))
        missing = names - held_terms(names, self.documents.terms(topic_doc).intersection)
        if missing and alone_doc is not None and not context.pronoun:
            # "What did Putin say?" after questions about Lavrov: short, but it names whom it asks about, and
            # the topic's document never does while its own search finds one that does (or no document does:
            # "Where is Clearwater Lake?" is not about the topic either)
            found = held_terms(missing, self.documents.terms(alone_doc).intersection)
            if missing <= found | (missing - held_terms(missing, self.index.known_terms)):
                named = as_written(question, missing)
                return False, True, f"it names what the topic's document never mentions ({named})"
        # a question that refers back with a personal pronoun follows up whatever it names: not looked up
        speaks_of_topic = context.cue and context.pronoun
        rare = None if speaks_of_topic else self._rare_terms_elsewhere(own_terms, topic_doc, alone_doc)
        if rare is not None and not context.cue:
            # complete, its own search prefers another document, and the topic's lacks something rare it names
            # (a name the topic never mentioned, say): it is about something else, not a follow-up
            there = f"; {as_written(question, rare)} only there" if rare else ""
            return (
                False,
                True,
                f"a complete question mostly about other documents (the topic's holds {held:.0%}{there})",
            )
        if rare is not None and not context.pronoun and self._points_elsewhere(own_terms, own_vector, topic_doc, mode):
            # answered alone, but it refers back (a referring word, or too short), so the topic is kept; a
            # personal pronoun ("exceptions raised in it") speaks of the topic whatever else the words find
            there = f" ({as_written(question, rare)} only there)" if rare else ""
            return False, False, f"the question alone clearly points to other documents{there}"
        named_any = own_terms and not context.names_nothing  # "Where exactly?" names nothing
        holds = f"the topic's document holds {held:.0%} of its words" if named_any else "no words of its own"
        if not context.cue:
            return True, False, f"what it names beyond the topic's document is common ({holds})"
        return True, False, f"too vague to stand alone ({holds})"

    def _found_alone(
        self, own_terms: list[str], topic_doc: int, topic_row: int | None, alone_row: int | None, context: TopicContext
    ) -> str | None:
        """The reason a short question without a referring word begins a topic (`same_passage_moves_on`) when its
        own search puts first the passage the contextual one does (or a copy), under a heading naming one of its
        terms, in another document than the latest answer's, which holds less than `topic_coverage` of its words:
        "How do I define a class?" after lambdas, found in "Class definitions". None otherwise. The heading is
        what tells a manual's section about the question from a story's passage that its common words found."""
        if not self.settings.same_passage_moves_on or context.referring or topic_row is None or alone_row is None:
            return None
        records = self.index.passages([topic_row, alone_row])
        heading = self.index.section(records[topic_row])
        if not heading or set(tokenize(heading)).isdisjoint(own_terms):
            return None
        if text_key(records[topic_row].text) != text_key(records[alone_row].text):  # one passage, or copies of one
            return None
        last = self.documents.at(context.last_document) if context.last_document else None
        if last is None or last == topic_doc:
            return None
        if self._coverage(own_terms, last) >= self.settings.topic_coverage:
            return None
        return f"a short question whose own words find the section the context finds ({heading}), elsewhere"

    def _names_another_section(self, own_terms: list[str], alone_row: int | None, context: TopicContext) -> str | None:
        """What a question without a referring word names (`named_section_moves_on`): the heading of the section
        its own search's first passage is in, or that passage's document title line when it is under no heading,
        when the question holds `NAMED_SECTION_SHARE` of its terms (`names`) and the passage just read is not in
        that section. None otherwise."""
        if not self.settings.named_section_moves_on or context.referring or alone_row is None:
            return None
        alone = self.index.passages([alone_row])[alone_row]
        section = self.index.section(alone)
        document = self.index.document(alone.doc)
        named = section or (document.title if document.title_from_text else "")
        if not named or not names(set(own_terms), named):
            return None
        last = self._last_passage(context)
        if last is not None and (last.doc, self.index.section(last)) == (alone.doc, section):
            return None
        return named

    def _moves_on(self, own_terms: list[str], doc: int, context: TopicContext) -> tuple[str, ...]:
        """The rare terms (`rare_term_idf_share`) of a short question without a referring word that document
        `doc`, which both its own search and the contextual one put first, holds and the latest answer's
        document lacks (`short_question_moves_on`): "What did Peskov say about the cease-fire?" after questions
        answered from a report on air strikes that never names him. () when the question is not such a one."""
        if not self.settings.short_question_moves_on or context.referring or context.last_document is None:
            return ()
        last = self.documents.at(context.last_document)
        if last is None or last == doc:
            return ()
        return self._rare_terms_elsewhere(own_terms, last, doc) or ()

    def _rare_terms_elsewhere(
        self, own_terms: list[str], topic_doc: int, alone_doc: int | None
    ) -> tuple[str, ...] | None:
        """The rare terms (`rare_term_idf_share`) of the question that document `topic_doc` lacks and
        `alone_doc`, the question alone's first, holds; () when that search found nothing; None when there
        are no such terms."""
        if alone_doc is None:
            return ()
        lowest = self.settings.rare_term_idf_share * math.log(self.index.size + 1)
        topic_terms = self.documents.terms(topic_doc)
        known = self.index.term_info(own_terms)
        rare = sorted(t for t, (_, idf) in known.items() if idf >= lowest and t not in topic_terms)
        if not rare:
            return None
        alone_terms = self.documents.terms(alone_doc)
        return tuple(t for t in rare if t in alone_terms) or None

    def _coverage(self, own_terms: list[str], doc: int) -> float:
        """Share of the question's idf mass whose terms occur somewhere in document `doc`."""
        return self._share_held(own_terms, self.documents.terms(doc))

    def _share_held(self, own_terms: list[str], present: frozenset[str]) -> float:
        """Share of the question's idf mass whose terms are among `present` (0 for a question without terms)."""
        return covered_share(index_term_weights(self.index, own_terms), present) if own_terms else 0.0

    def _section_moves_on(
        self,
        own_terms: list[str],
        own_vector: npt.NDArray[np.float32],
        doc: int,
        row: int | None,
        context: TopicContext,
        mode: Mode,
    ) -> str:
        """Why the question begins a topic though document `doc` holds its words ("" when it does not): the
        document has sections, the question has no referring word, the section of its passage `row` holds less than
        `topic_coverage` of the question's idf mass, and both retrievers of the question alone clearly prefer
        passages outside it (`_points_elsewhere`). "How do I write a generator?" after questions on the with
        statement: Python's "Compound statements" mentions generators, its section on the with statement never
        does, and the question alone finds the yield statement."""
        if not self.settings.section_moves_on or context.referring or row is None or not self.index.has_sections:
            return ""
        section = self.index.section(self.index.passages([row])[row])
        found = self.documents.sections(doc).get(section) if section else None
        if found is None or not found[0].size:
            return ""
        rows, terms = found
        held = self._share_held(own_terms, terms)
        if held >= self.settings.topic_coverage or not self._points_elsewhere(own_terms, own_vector, doc, mode, rows):
            return ""
        return f"its own words find other passages; the topic's section ({section}) holds {held:.0%} of them"

    def _points_elsewhere(
        self,
        own_terms: list[str],
        own_vector: npt.NDArray[np.float32],
        doc: int,
        mode: Mode,
        rows: npt.NDArray[np.int64] | None = None,
    ) -> bool:
        """Both retrievers of the question alone clearly prefer a passage outside document `doc` (outside its
        search rows `rows`, when given)."""
        s = self.settings
        if rows is None:
            rows, _ = self.documents.rows_and_terms(doc)
        if not rows.size:
            return True
        lexical = dense = True  # a retriever the mode does not use does not object
        if mode in ("hybrid", "bm25"):
            scores = self.index.bm25_scores(own_terms)  # BM25 scores are never negative
            lexical = float(scores[rows].max()) < s.elsewhere_bm25_ratio * float(scores.max())
        if mode in ("hybrid", "dense"):
            _, cosines = self.index.dense.search(own_vector, 1)
            topic_cosine = float((self.index.vectors_at(rows) @ own_vector).max())
            dense = bool(cosines.size) and topic_cosine < float(cosines[0]) - s.elsewhere_dense_gap
        return lexical and dense

    def _story_order(self, asked: npt.NDArray[np.float32], candidates: list[Candidate]) -> list[Candidate]:
        """`candidates` with those of the first `story_depth` documents re-ordered by their fused score (scaled so
        that the best is 1 and the last of those documents' best is 0) plus `story_sentence_weight` x their
        document's mean, over the questions `asked` (one unit vector each), of its best sentence cosine to the
        question; a document's passages keep their order, and the rest follow unchanged. A follow-up names
        little; the questions asked before it each point at what the story must hold ("Who tried to bring Nicole
        back to life?", "How old is Ted?"), and a story holding a sentence close to each is likelier the one the
        conversation is about than one that matches the words of a single question well."""
        weight, depth = self.settings.story_sentence_weight, self.settings.story_depth
        if weight <= 0 or not candidates:
            return candidates
        records = self.index.passages([c.row for c in candidates])
        best: dict[int, float] = {}  # document -> its best fused score, best first
        for c in candidates:
            doc = records[c.row].doc
            if doc not in best:
                if len(best) == depth:
                    break
                best[doc] = c.score
        top, low = max(best.values()), min(best.values())
        span = top - low if top > low else 1.0
        seen: dict[int, list[int]] = {doc: [] for doc in best}  # document -> its candidate rows
        for c in candidates:
            seen.get(records[c.row].doc, []).append(c.row)
        asks = {doc: self._answers_questions(doc, seen[doc], asked) for doc in best}
        ranked = [c for c in candidates if records[c.row].doc in best]
        rest = [c for c in candidates if records[c.row].doc not in best]
        ranked.sort(key=lambda c: (-((c.score - low) / span + weight * asks[records[c.row].doc]), c.row))
        return ranked + rest

    def _answers_questions(self, doc: int, candidate_rows: list[int], asked: npt.NDArray[np.float32]) -> float:
        """The mean over the questions `asked` of the best cosine of a sentence of document `doc` to each: every
        sentence of a document of up to `STORY_PASSAGES` passages, else of its passages among `candidate_rows`."""
        rows = self.documents.reading_rows(doc)
        if len(rows) > STORY_PASSAGES:
            rows = candidate_rows
        stored = [v for v in self.index.sentence_vectors(rows).values() if len(v)]
        # if none of these passages holds a sentence (each searchable passage normally holds one): their vectors
        sentences = np.vstack(stored) if stored else self.index.vectors_at(rows)
        return float((sentences @ asked.T).max(axis=0).mean())

    def _kept_document(self, own_terms: list[str], topic_doc: int | None, context: TopicContext) -> int | None:
        """The latest answer's document, when a follow-up that refers back ("that release", "it") is held
        there (`topic_coverage` of its own idf mass) but the contextual search put another document first:
        the user asks about what they just read. A follow-up that is only short ("What is an EventEmitter?"
        after questions on streams) goes where the contextual search goes."""
        if not (self.settings.stay_in_last_document and context.referring and context.last_document is not None):
            return None
        last = self.documents.at(context.last_document)
        if last is None or last == topic_doc or self._coverage(own_terms, last) < self.settings.topic_coverage:
            return None
        return last

    def _read_passage(self, own_terms: list[str], context: TopicContext, candidates: list[Candidate]) -> int | None:
        """The search row of the passage the user just read (the latest answer's first), when the question
        refers back (a personal pronoun: "And what is its status?", or too few words to stand alone: "How many
        counts?") and that passage holds `topic_coverage` of the question's own idf mass, its heading and a
        table's header counted, and the contextual search found it."""
        if not (self.settings.stay_on_last_passage and context.cue and context.last_passage and own_terms):
            return None
        record = self._last_passage(context)
        if record is None or record.search_row is None or all(c.row != record.search_row for c in candidates):
            return None
        held = set(span_terms(record.text)) | passage_context(self.index, record)[0]
        share = covered_share(index_term_weights(self.index, own_terms), held)
        return record.search_row if share >= self.settings.topic_coverage else None

    def _answer_kind_order(
        self, question: str, own_terms: list[str], context: TopicContext
    ) -> Callable[[PassageRecord], tuple[bool, int]] | None:
        """For a follow-up with no words of its own (fillers aside: "Where exactly?") that asks for a time, a
        number or a place ("When did it happen?": its own ranking is the embedding of a question word), a
        passage's key within its document: whether it lacks one (`qa.answer_kind.follow_up_kind`), then how
        many passages it lies from the passage just read (0 in another document). None for any other question;
        a "Who?" is left alone, as capitalised words are everywhere."""
        kind = follow_up_kind(question)
        if kind in (None, "name") or not self.settings.answer_kind_without_words:
            return None
        if own_terms and not context.names_nothing:
            return None
        last = self._last_passage(context)

        def key(record: PassageRecord) -> tuple[bool, int]:
            distance = abs(record.row - last.row) if last is not None and last.doc == record.doc else 0
            return not holds_follow_up_kind(kind, question, record.text), distance

        return key

    def _last_passage(self, context: TopicContext) -> PassageRecord | None:
        """The passage the user just read (the latest answer's first), if the index still holds it."""
        return self.index.catalog.passage_by_id(context.last_passage) if context.last_passage else None

    def _led_by(self, doc: int, candidates: list[Candidate]) -> list[Candidate]:
        """`candidates` with document `doc`'s first, each part in its order."""
        records = self.index.passages([c.row for c in candidates])
        return sorted(candidates, key=lambda c: records[c.row].doc != doc)  # stable
