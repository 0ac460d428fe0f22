"""Hostile and odd documents and questions: each is handled or skipped with one line, nothing else lost."""

from __future__ import annotations

import codecs
import errno
import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import index.corpus
from index.builder import open_index
from index.corpus import MAX_FILE_BYTES, FolderSource
from index.corpus_index import CorpusIndex
from index.errors import CorpusError, QuestionError
from index.paragraphs import LineIndex, split_document
from index.tokenize import term_spans, word_terms
from qa.engine import QAEngine
from qa.escape import safe_line
from tests.reliability.fakes import ConstantEmbedder, HashEmbedder, NullReporter

GOOD = "A perfectly ordinary paragraph about the harbour and its lighthouse keepers at night.\n"


def _build(corpus: Path, index_dir: Path) -> tuple[CorpusIndex, NullReporter]:
    reporter = NullReporter()
    return open_index(FolderSource(corpus), index_dir, HashEmbedder(), reporter), reporter


def _decoded(path: Path) -> str:
    return index.corpus.PlainTextReader().decode(path.read_bytes())


def _assert_citations_exact(built: CorpusIndex) -> None:
    """Every passage of every document is exactly text[char_start:char_end] of the decoded file, at its lines."""
    for document in built.documents():
        text = _decoded(Path(document.abs_path))
        lines = LineIndex(text)
        for passage in built.catalog.passages_of_document(document.doc):
            assert text[passage.char_start : passage.char_end] == passage.text
            assert lines.line_of(passage.char_start) == passage.line_start
            assert lines.line_of(passage.char_end - 1) == passage.line_end


def test_odd_files_are_skipped_or_read_with_one_line_each(tmp_path: Path) -> None:
    corpus = tmp_path / "odd corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD)
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (corpus / "invalid-utf8.txt").write_bytes(b"Valid start then \xff\xfe\xfd broken bytes in the middle of text.\n")
    (corpus / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + GOOD.replace("harbour", "quay").encode("utf-16-le"))
    (corpus / "crlf.txt").write_bytes(b"Title line here\r\n\r\n" + GOOD.replace("\n", "\r\n").encode() * 2)
    (corpus / "lone-cr.md").write_bytes(b"# Old Mac file\r\rFirst paragraph of the old mac file, long enough.\r" * 3)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_text(" \n\t\n\u3000\n")
    (corpus / "name with spaces.txt").write_text(GOOD)
    (corpus / "new\nline ünïcødé 東京.txt").write_text(GOOD)
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    (corpus / "dangling.txt").symlink_to(corpus / "nowhere.txt")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "loop").symlink_to(corpus, target_is_directory=True)  # a folder loop: not followed
    (corpus / "sub" / "nested.txt").write_text(GOOD)
    os.mkfifo(corpus / "fifo.txt")  # reading it would block forever
    with open(corpus / "huge.txt", "wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_FILE_BYTES + 1)
    started = time.monotonic()
    built, reporter = _build(corpus, tmp_path / "index")
    assert time.monotonic() - started < 60
    read = sorted(d.path.split("/", 1)[1] for d in built.documents())
    assert read == sorted(
        ["good.txt", "utf16.txt", "crlf.txt", "lone-cr.md", "name with spaces.txt", "new\nline ünïcødé 東京.txt"]
        + ["sub/nested.txt"]
    )
    skipped = {
        "binary.txt": "binary",
        "invalid-utf8.txt": "not valid UTF-8",
        "empty.txt": "empty file",
        "blank.md": "only whitespace",
        "loop-a.txt": "symbolic links",
        "loop-b.txt": "symbolic links",
        "dangling.txt": "No such file",
        "huge.txt": "too large",
    }
    assert len(reporter.warnings) == len(skipped), reporter.warnings
    for name, reason in skipped.items():
        (warning,) = [w for w in reporter.warnings if f"/{name}:" in w]
        assert reason in warning
        assert "\n" not in safe_line(warning)  # the CLI prints it on one line
    _assert_citations_exact(built)
    built.close()
    again, reporter = _build(corpus, tmp_path / "index")  # remembered: no rebuild, no repeated warnings
    assert reporter.notes == [] and again.generation == built.generation
    assert len(reporter.warnings) <= 4  # files that cannot even be listed (loops, dangling) warn each time


def test_unreadable_file_is_skipped_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD)
    (corpus / "secret.txt").write_text(GOOD.replace("harbour", "vault"))
    if os.geteuid() != 0:
        (corpus / "secret.txt").chmod(0)
    else:  # root reads anything: simulate the permission error where the reader opens the file
        real_open = open

        def guarded_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(path).endswith("secret.txt"):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(index.corpus, "open", guarded_open, raising=False)
    built, reporter = _build(corpus, tmp_path / "index")
    assert [d.path for d in built.documents()] == ["corpus/good.txt"]
    assert reporter.warnings == ["skipped corpus/secret.txt: Permission denied"]


def test_corpus_path_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(GOOD)
    with pytest.raises(CorpusError, match="not a folder"):
        FolderSource(tmp_path / "notes.txt")


def test_single_line_file_of_several_megabytes_is_split_in_linear_time(tmp_path: Path) -> None:
    """A 5 MB one-line file (the 50 MB measurement is in benchmarks/index_memory.py and docs/guarantees.md)."""
    sentence = "The harbour master counted {} boats near the lighthouse before the storm. "
    text = "".join(sentence.format(i) for i in range(70_000))
    assert len(text) > 5_000_000 and "\n" not in text
    started = time.monotonic()
    split = split_document(text, "one-line.txt")
    elapsed = time.monotonic() - started
    assert len(split.passages) > 5000 and elapsed < 15, elapsed
    for span in split.passages[:: len(split.passages) // 50]:
        piece = text[span.char_start : span.char_end]
        assert piece == piece.strip() and len(piece.split()) <= 160 and span.line_start == span.line_end == 1


def test_hundred_thousand_tiny_paragraphs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = "\n\n".join(f"Tiny note {i} about harbour {i % 97}." for i in range(100_000))
    (corpus / "tiny.txt").write_text(body + "\n")
    started = time.monotonic()
    embedder = ConstantEmbedder()
    built = open_index(FolderSource(corpus), tmp_path / "index", embedder, NullReporter())
    elapsed = time.monotonic() - started
    assert built.catalog.passage_count() == 100_000 and built.size == 100_000
    assert elapsed < 120, elapsed
    answer = QAEngine(built, embedder).ask("tiny note 4242 harbour", mode="bm25", top_k=3)
    assert answer.passages[0].text.startswith("Tiny note 4242 ")
    built.close()


def test_questions_of_every_shape(seeds_engine: QAEngine) -> None:
    for blank in ("", "   ", "\n\t \u3000"):
        with pytest.raises(QuestionError, match="empty"):
            seeds_engine.ask(blank)
    shapes = [
        "Idlib " * 1700,  # 10,000 characters
        "?!?!... ,,, ;;; ---",
        "🚀🔥💥 🇸🇾",
        "Кто нанёс удар по Идлибу?",
        "谁袭击了伊德利卜的武器库？",
        "من قصف مستودع الأسلحة في إدلب؟",
        "\x1b]52;c;AAAA\x07 Idlib \u202e",
        "a",
    ]
    for question in shapes:
        started = time.monotonic()
        answer = seeds_engine.ask(question, top_k=3)
        assert time.monotonic() - started < 30
        assert answer.passages and answer.verdict in ("answered", "no_credible_evidence")
        for evidence in answer.passages:
            text = Path(evidence.citation.abs_path).read_text(encoding="utf-8")
            assert text[evidence.citation.char_start : evidence.citation.char_end] == evidence.text
    assert seeds_engine.ask("?!?!... ,,, ;;; ---").verdict == "no_credible_evidence"


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=80))
def test_any_question_gets_exact_citations_or_a_clear_refusal(seeds_engine: QAEngine, question: str) -> None:
    try:
        answer = seeds_engine.ask(question, top_k=2)
    except QuestionError:
        assert not question.split()
        return
    for evidence in answer.passages:
        assert evidence.id.startswith("seeds/") and evidence.citation.char_end > evidence.citation.char_start


ODD_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["\n", "\r\n", "\r", " ", "\t", ".", "# ", "?", "\u2028", "\u0085", "\x0c", "\ufeff"]),
        st.sampled_from(["word", "Sentence.", "Mr.", "\u202e", "東京", "e\u0301", "🚀", "x" * 50]),
        st.characters(codec="utf-8"),
    ),
    max_size=300,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(ODD_TEXT)
def test_splitter_offsets_and_lines_round_trip_on_any_text(text: str) -> None:
    split = split_document(text, "f.txt")
    breaks = [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    for p in split.passages:
        piece = text[p.char_start : p.char_end]
        assert piece and piece == piece.strip()
        assert p.line_start == 1 + sum(1 for b in breaks if b <= p.char_start)  # an independent line count
        assert p.line_end == 1 + sum(1 for b in breaks if b <= p.char_end - 1)
        assert p.searchable == (p.kind == "text")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_every_term_span_is_exactly_its_term(text: str) -> None:
    for term, start, end in term_spans(text):
        assert word_terms(text[start:end]) == [term]  # a named stopword ("the with statement") read as named
