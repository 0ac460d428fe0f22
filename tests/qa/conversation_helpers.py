"""Synthetic answers for conversation, history and export tests (no model, no index)."""

from __future__ import annotations

from qa.types import Answer, AnswerText, Citation, Evidence, Sentence


def evidence(rank: int, path: str, paragraph: int, text: str) -> Evidence:
    return Evidence(
        rank=rank,
        id=f"{path}#p{paragraph}",
        citation=Citation(path, f"/corpus/{path}", "", paragraph, 0, paragraph, paragraph, 0, len(text)),
        text=text,
        score=1.0 / rank,
        bm25_rank=rank,
        bm25_score=2.5,
        dense_rank=None,
        dense_score=None,
        answer_sentence=Sentence(text, 0, len(text)),
        matched_terms=("depot",),
        term_spans=((0, 5),),
    )


def answer(question: str, passages: list[tuple[str, int, str]], follow_up: bool = False) -> Answer:
    shown = tuple(evidence(rank, path, paragraph, text) for rank, (path, paragraph, text) in enumerate(passages, 1))
    return Answer(
        question=question,
        retrieval_query=question if not follow_up else f"{question} [+ context: x]",
        mode="hybrid",
        top_k=5,
        verdict="answered" if shown else "no_credible_evidence",
        reason="test",
        answer=AnswerText(shown[0].text, 1, 0, len(shown[0].text)) if shown else None,
        passages=shown,
        timings_ms={"total": 1.0},
        follow_up=follow_up,
    )


DEPOT = "Russian fighter jets have targeted a weapons depot in Syria's Idlib province."
COORDINATED = "Russia said the Wednesday attack was coordinated with Turkey."
