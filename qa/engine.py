"""Answer questions over one index: retrieval, answer sentences, citations, credibility.

`QAEngine` receives its collaborators; `open_engine` is the composition root shared by CLI and TUI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from index.builder import BuildReporter, open_index, serves_as_it_is
from index.catalog import PassageRecord
from index.corpus import DocumentSource, FolderSource
from index.corpus_index import CorpusIndex
from index.embed import Embedder, ModelEmbedder, resolve_model
from index.errors import QuestionError
from index.paragraphs import cut_after_word, heading_context
from index.sentences import sentences_of
from index.store import default_index_dir
from index.tokenize import word_terms
from qa.answer import (
    CredibilityRule,
    best_sentence,
    coverage,
    covered_share,
    heading_only_terms,
    index_term_weights,
    matched_terms,
    stored_matched_terms,
    term_keys,
    unseen_names,
)
from qa.answer_kind import follow_up_kind, holds_follow_up_kind
from qa.citations import CitationChecker
from qa.context_retrieval import ContextSettings, ContextualRetriever
from qa.conversation import Conversation, content_words
from qa.question_terms import question_terms
from qa.retrieve import HybridRetriever, Retrieval, Retriever
from qa.table_headers import header_before, passage_tables
from qa.types import DEFAULT_FUSION, DEFAULT_TOP_K, MODES, Answer, AnswerText, Citation, Evidence, Fusion, Mode

MAX_QUESTION_CHARS = 2000
CARRIED_SENTENCE_WEIGHT = 0.1  # x its weight: a follow-up's context words in choosing the answer sentence


def default_corpus() -> Path:
    """The bundled seed articles (shipped with the package, so a plain `pip install .` has them)."""
    import importlib.util

    spec = importlib.util.find_spec("seeds")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        if any(Path(location).glob("*.txt")):
            return Path(location)
    return Path(__file__).resolve().parent.parent / "seeds"


def corpus_identity(corpus: Path | None) -> str:
    """What names the corpus `open_engine(corpus, ...)` opens (`QAEngine.corpus`), without opening it."""
    return FolderSource((corpus or default_corpus()).expanduser()).identity


@dataclass(frozen=True)
class IndexFacts:
    documents: int
    passages: int
    model_id: str
    corpus_root: str
    index_dir: str


class QAEngine:
    def __init__(
        self,
        index: CorpusIndex,
        embedder: Embedder,
        retriever: Retriever | None = None,
        credibility: CredibilityRule | None = None,
        source: DocumentSource | None = None,
        context_settings: ContextSettings | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.retriever = retriever or HybridRetriever(index, embedder)
        self.credibility = credibility or CredibilityRule()
        # With the source, every answer re-checks its citations against the files (see qa.citations).
        self.source = source
        self.checker = CitationChecker(source) if source is not None else None
        self.contextual = ContextualRetriever(index, embedder, self.retriever, context_settings)

    @property
    def corpus(self) -> str | None:
        """What names the corpus (`DocumentSource.identity`: a folder's resolved path), if the source is known."""
        return self.source.identity if self.source is not None else None

    def refreshed(self, reporter: BuildReporter) -> QAEngine | None:
        """An engine over the index brought up to date when files were edited, added or removed since this
        one's was built (only what changed is re-read and re-embedded), else None. For long-lived front
        ends (the TUI), before each question: the answer is then over the files as they are."""
        if self.source is None or serves_as_it_is(self.index, self.source, self.embedder.model_id):
            return None
        index = open_index(self.source, self.index.generation.path.parent, self.embedder, reporter)
        fusion = getattr(self.retriever, "fusion", DEFAULT_FUSION)
        retriever = HybridRetriever(index, self.embedder, fusion=fusion)
        return QAEngine(index, self.embedder, retriever, self.credibility, self.source, self.contextual.settings)

    def warm_up(self) -> None:
        """Load what a first question would otherwise wait for: the query encoder (ONNX Runtime's session
        takes ~0.2 s to create) and the dense index. For long-lived front ends, before they take questions."""
        self.embedder.embed_queries(["warm-up"])
        _ = self.index.dense

    def verify_citation(self, evidence: Evidence) -> bool:
        """True when the cited file still holds `evidence.text` at the cited offsets and lines.

        Without a source to read from (an engine built over a bare index), citations are trusted."""
        if self.checker is None:
            return True
        record = self.index.catalog.passage_by_id(evidence.id)
        if record is None:
            return False
        return self.checker.holds(evidence.citation, evidence.text, self.index.document(record.doc))

    def facts(self) -> IndexFacts:
        counts = self.index.manifest["counts"]
        return IndexFacts(
            documents=int(counts["documents"]),
            passages=int(counts["searchable"]),
            model_id=self.index.model_id,
            corpus_root=str(self.index.manifest["corpus_root"]),
            index_dir=str(self.index.generation.path.parent),
        )

    def ask(
        self,
        question: str,
        mode: Mode = "hybrid",
        top_k: int = DEFAULT_TOP_K,
        conversation: Conversation | None = None,
    ) -> Answer:
        """Answer one question; with a conversation, follow-ups borrow context and the turn is recorded."""
        cleaned = " ".join(question.split())
        if not cleaned:
            raise QuestionError("the question is empty")
        if mode not in MODES:
            raise QuestionError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
        if top_k < 1:
            raise QuestionError("top-k must be at least 1")
        cleaned = cut_after_word(cleaned, MAX_QUESTION_CHARS)  # a word cut in two would be a rare "term"
        started = time.perf_counter()
        follow_up, new_topic, context_reason = False, True, None
        if conversation is not None:
            conversation.asked_over(self.corpus)
            context = conversation.context(cleaned, self.index.shared_section)
            retrieval, decision = self.contextual.retrieve(cleaned, context, mode, top_k)
            query, follow_up, new_topic = decision.query, decision.follow_up, decision.new_topic
            context_reason = None if context is None else decision.reason
        else:
            query = cleaned
            retrieval = self.retriever.retrieve(query, mode, top_k)
        result = self.compose(cleaned, query, mode, top_k, retrieval, follow_up)
        if context_reason is not None:
            result = replace(result, context_reason=context_reason, new_topic=new_topic)
        result.timings_ms["total"] = (time.perf_counter() - started) * 1000
        if conversation is not None:
            conversation.add(result, starts_topic=new_topic)
        return result

    def compose(
        self, question: str, query: str, mode: Mode, top_k: int, retrieval: Retrieval, follow_up: bool = False
    ) -> Answer:
        """The answer built from a finished retrieval: answer sentences, citations and the verdict."""
        timings = dict(retrieval.timings_ms)
        answer_started = time.perf_counter()
        rows = [c.row for c in retrieval.candidates]
        records = self.index.passages([row for c in retrieval.candidates for row in c.shown_rows])
        weights = index_term_weights(self.index, retrieval.query_terms)
        vector = retrieval.query_vector
        # The question's own words (a follow-up's, without its fillers) and, for a follow-up that names
        # something, its own vector choose the answer sentence: the carried context found the passage, but
        # "Who controls it?" asks for the sentence about control, not the one about the earlier question.
        own_terms = question_terms(question)
        asked_terms = set(own_terms)  # a follow-up's fillers among them ("get" in "How do we get there?")
        if follow_up:  # its own words are its content words; "get" is no word the answer must hold
            own_terms = [t for word in content_words(question) for t in word_terms(word)]
        own_weights = weights if own_terms == retrieval.query_terms else index_term_weights(self.index, own_terms)
        sentence_weights, sentence_vector = weights, vector
        if follow_up and own_weights and retrieval.own_vector is not None:
            # the context's words only break ties: "And what is its status?" under a table header that every
            # row shares is the status of the row about Oslo, the office asked about before
            carried = {t: CARRIED_SENTENCE_WEIGHT * w for t, w in weights.items() if t not in own_weights}
            sentence_weights, sentence_vector = own_weights | carried, retrieval.own_vector
        # a follow-up with no words of its own that asks for a time, a number or a place ("When?", "Where were
        # they?") is answered by a sentence holding one
        asked = follow_up_kind(question) if follow_up and not own_weights else None

        def holds_asked(sentence: str) -> bool:
            return holds_follow_up_kind(asked, question, sentence)

        stored_terms = self.index.sentence_terms(rows)  # spans and term ids as indexed ({}: not stored)
        sentence_spans = {
            row: list(stored_terms[row].spans) if row in stored_terms else sentences_of(records[row].text)
            for row in rows
        }
        keyed_weights: dict[int, float] = {}  # weights keyed as the stored terms are
        keyed_sentence_weights: dict[int, float] = {}
        if stored_terms:
            wanted = list(dict.fromkeys([*weights, *sentence_weights]))
            keys = term_keys(self.index.term_info(wanted), wanted)
            keyed_weights = {keys[term]: weight for term, weight in weights.items()}
            keyed_sentence_weights = {keys[term]: weight for term, weight in sentence_weights.items()}
        question_ids = {key for key in keyed_weights if key >= 0}  # the question's terms in the vocabulary
        # Each shown passage highlights the sentence that best combines meaning and key terms; the sentence
        # vectors were computed at index time (a damaged or mismatched set falls back to key terms alone).
        stored = self.index.sentence_vectors(rows) if vector is not None else {}
        sentence_vectors = {
            row: matrix for row, matrix in stored.items() if len(matrix) == len(sentence_spans[row]) > 1
        }
        evidence = []
        for rank, candidate in enumerate(retrieval.candidates, start=1):
            record = records[candidate.row]
            vectors = sentence_vectors.get(candidate.row)
            terms = stored_terms.get(candidate.row)
            sentence = best_sentence(
                record.text,
                record.char_start,
                sentence_spans[candidate.row],
                sentence_weights if terms is None else keyed_sentence_weights,
                sentence_vector,
                vectors,
                None if terms is None else terms.terms,
                passage_tables(
                    record.text,
                    record.char_start,
                    sentence_spans[candidate.row],
                    None if terms is None else terms.terms,
                    vectors,
                    header_before(self.index, record, terms is not None),
                ),
                holds_asked if asked else None,
            )
            if terms is None:
                words, spans = matched_terms(record.text, weights)
            else:
                words, spans = stored_matched_terms(record.text, terms, question_ids, weights)
            citation = self._citation(record)
            evidence.append(
                Evidence(
                    rank=rank,
                    id=record.id,
                    citation=citation,
                    text=record.text,
                    score=candidate.score,
                    bm25_rank=candidate.bm25_rank,
                    bm25_score=candidate.bm25_score,
                    dense_rank=candidate.dense_rank,
                    dense_score=candidate.dense_score,
                    answer_sentence=sentence,
                    matched_terms=words,
                    term_spans=spans,
                    heading_terms=heading_only_terms(citation.section, weights, words),
                    also_in=tuple(self._citation(records[row]) for row in candidate.duplicates),
                    context_ranks=candidate.context_ranks,
                )
            )
        evidence = [e if self.verify_citation(e) else replace(e, stale=True) for e in evidence]
        if evidence and vector is not None:
            top = evidence[0]
            top_row = retrieval.candidates[0].row
            cosine = float(self.index.vectors_at([top_row])[0] @ vector)
            # Coverage of the question's own words: context carried into a follow-up must not dilute it, and
            # a follow-up's fillers ("anyone", "else") name nothing the passage should hold. A follow-up
            # that names nothing at all ("Why?", "When?") asks about its context: the passage must hold that.
            if own_weights or not follow_up:
                held = own_weights
            else:  # the carried words: a follow-up naming nothing has only fillers of its own
                held = {t: w for t, w in weights.items() if t not in asked_terms}
            # the document's title and the section heading are part of what the passage says ("## Dentist" over
            # "Tuesday at 3pm"; "Branch offices" over the row of the office in Warsaw), as they are in its
            # BM25 terms and embedding
            citation = top.citation
            read = "\n".join(
                [citation.title, *([heading_context(citation.section)] if citation.section else []), top.text]
            )
            if (header := top.answer_sentence.header) is not None:  # a table row is read under its header row
                read = f"{header.text}\n{read}"
            covered = coverage(read, held)
            verdict, reason = self.credibility.judge(cosine, covered)
            if verdict != "answered" and asked not in (None, "name") and holds_asked(top.answer_sentence.text):
                # its own embedding is a question word's, and its passage need not repeat the topic: the
                # topic's words belong to the passage's document, the answer's kind to its sentence (a date,
                # a number or a place; a capitalised word, the "name" a "Who?" asks for, is in most sentences)
                topic_share = covered_share(weights, self.contextual.documents.terms(records[top_row].doc))
                if topic_share >= self.credibility.min_coverage:
                    verdict = "answered"
                    reason = (
                        f"a follow-up without words of its own: its sentence holds a {asked}, its document "
                        f"{topic_share:.0%} of the topic's key terms (similarity {cosine:.2f})"
                    )
            # the names the corpus never mentions undo an answer on meaning alone, and tell why there is none
            if verdict != "answered" or self.credibility.rests_on_meaning(cosine, covered):
                if names := unseen_names(question, self.index.known_terms):
                    verdict, reason = self.credibility.judge(cosine, covered, names)
        else:
            verdict, reason = "no_credible_evidence", "no passage matches any word of the question"
        answer_text = None
        if verdict == "answered":
            top = evidence[0]
            sentence = top.answer_sentence
            answer_text = AnswerText(sentence.text, 1, sentence.char_start, sentence.char_end, sentence.header)
        timings["answer"] = (time.perf_counter() - answer_started) * 1000
        return Answer(
            question=question,
            retrieval_query=query,
            follow_up=follow_up,
            mode=mode,
            top_k=top_k,
            verdict=verdict,
            reason=reason,
            answer=answer_text,
            passages=tuple(evidence),
            timings_ms=timings,
        )

    def _citation(self, record: PassageRecord) -> Citation:
        document = self.index.document(record.doc)
        return Citation(
            path=document.path,
            abs_path=document.abs_path,
            title=self.index.display_title(record.doc),
            section=self.index.section(record),
            paragraph=record.paragraph,
            window=record.window,
            line_start=record.line_start,
            line_end=record.line_end,
            char_start=record.char_start,
            char_end=record.char_end,
        )

    def close(self) -> None:
        self.index.close()


def open_engine(
    corpus: Path | None,
    index_dir: Path | None,
    model: str | None,
    reporter: BuildReporter,
    rebuild: bool = False,
    fusion: Fusion = DEFAULT_FUSION,
    query_encoder: str | None = None,
) -> QAEngine:
    """Composition root: resolve corpus, index location and model; load or build the index.
    `query_encoder` picks how questions are embedded (`index.embed.load_query_encoder`)."""
    corpus_root = (corpus or default_corpus()).expanduser()
    embedder = ModelEmbedder(resolve_model(model), query_encoder=query_encoder)
    directory = index_dir.expanduser() if index_dir is not None else default_index_dir(corpus_root.resolve())
    source = FolderSource(corpus_root)
    index = open_index(source, directory, embedder, reporter, rebuild=rebuild)
    return QAEngine(index, embedder, HybridRetriever(index, embedder, fusion=fusion), source=source)
