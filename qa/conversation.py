"""Conversation state: the turns so far, the current topic, and the context a follow-up leaves out.

Deterministic, no language model. The conversation keeps the answers the user was shown; from the
turns of the current topic it offers a `TopicContext`:

- carried terms: content words of the earlier questions and of the section heading of each answer shown
  (`filehandle.readLines([options])` in an API reference: what "its" refers to), and, if
  `answer_term_weight` > 0, of the answer sentences shown, weighted by `recency_decay` per turn back (1.0
  by default: every turn alike);
- a context text for the dense query (the latest earlier questions of the topic, in the order asked), and
  those questions one by one (each is asked of the candidate documents: `qa.context_retrieval`);
- the document of the latest answer;
- a lexical cue: does the question look dependent (a referring word, or fewer than three content words)?
  Shown to the user; the retrieval decision does not need it.

Whether a question really is a follow-up is decided at retrieval time (`qa.context_retrieval`): a
question whose words the topic's document holds, or that is too vague to point anywhere by itself, is a
follow-up; one whose own words clearly find other documents starts a new topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from index.paragraphs import without_outline_number
from index.tokenize import STOPWORDS, named_stopwords, tokenize, word_terms
from qa.types import Answer

_WORD = re.compile(r"[\w'’-]+")
_PERSONAL_PRONOUNS = frozenset("it its it's they them their theirs he him his she her hers".split())
_REFERRING = _PERSONAL_PRONOUNS | frozenset(
    """this that these those there then such one ones same former latter another other others else
    instead otherwise""".split()
)
# Question words and fillers that carry no topic of their own.
_FILLERS = frozenset(
    """what whats what's who whom whose which when where why how did does do was were is are be been
    many much long kind kinds sort type types anything something anyone someone happen happened happens say said tell
    told know think get got go went else yes no ok okay please thanks thank like really since till ago
    exactly precisely specifically approximately roughly actually basically""".split()
)
FEW_CONTENT_WORDS = 3  # a question with fewer content words than this depends on its context
RECENCY_DECAY = 1.0  # every turn of the topic counts the same (abg-coqa val: 1.0 > 0.7 > 0.5)
ANSWER_TERM_WEIGHT = 0.0  # words of the answer sentences shown (abg-coqa val: carrying them at 0.25-0.5 hurt)
SECTION_TERM_WEIGHT = 1.0  # words of the section heading of each answer shown ("filehandle.readLines()")
MAX_CARRIED_TERMS = 12
MAX_CONTEXT_QUESTIONS = 2


def content_words(text: str) -> list[str]:
    """Words of `text` that name something: no stopwords, referring words or question fillers, unless the
    text names the word itself (`index.tokenize.named_stopwords`: "the with statement")."""
    named = named_stopwords(text)
    words = []
    for match in _WORD.finditer(text):
        word = match.group().strip("'’-")
        if _is_named(match, named):
            words.append(word)
            continue
        lowered = word.lower()
        if not word or lowered in STOPWORDS or lowered in _REFERRING or lowered in _FILLERS:
            continue
        if not tokenize(word):
            continue
        words.append(word)
    return words


def _is_named(match: re.Match[str], named: frozenset[int]) -> bool:
    """Whether the word `match` (with the apostrophes or hyphens around it) is one `named` holds."""
    return bool(named) and match.start() + len(match.group()) - len(match.group().lstrip("'’-")) in named


def _used_words(question: str) -> list[str]:
    """The question's words, lowercased, but those it names (`What does "it" mean?` uses no pronoun)."""
    named = named_stopwords(question)
    return [m.group().lower().strip("'’-") for m in _WORD.finditer(question) if not _is_named(m, named)]


def has_personal_pronoun(question: str) -> bool:
    """A personal pronoun ("it", "its", "they", "she", ...): the question speaks of something named before. A
    referring word such as "that" or "one" may not ("the river that flows ...", "one of the ...")."""
    return any(w in _PERSONAL_PRONOUNS for w in _used_words(question))


def has_referring_word(question: str) -> bool:
    """A word that points at something said before: a personal pronoun, "that", "there", "another", ..."""
    return any(w in _REFERRING for w in _used_words(question))


# a word written as a name: quoted or in backticks, or after "the" (`the "else" clause`, "the else clause")
_NAMED_WORD = re.compile(r"""[`"'“‘](\w+)[`"'”’]|\bthe\s+(\w+)""", re.IGNORECASE)


def referring_terms(question: str) -> frozenset[str]:
    """Index terms of the referring words `question` uses that are no stopwords ("instead", "else", "another"):
    they point back at the context and name nothing a passage should hold ("Use queueMicrotask() instead" is
    no answer to "When should I use queueMicrotask instead?"). Not a word it names ("the else clause")."""
    named = {(m.group(1) or m.group(2)).lower() for m in _NAMED_WORD.finditer(question)}
    return frozenset(t for w in _used_words(question) if w in _REFERRING and w not in named for t in tokenize(w))


def has_follow_up_cue(question: str) -> bool:
    """A referring word ("it", "they", "that") or fewer than `FEW_CONTENT_WORDS` content words."""
    return has_referring_word(question) or len(content_words(question)) < FEW_CONTENT_WORDS


@dataclass(frozen=True)
class TopicContext:
    """What the current topic can lend to the next question."""

    terms: tuple[tuple[str, float], ...]  # carried words (as written) and weights in (0, 1], best first
    last_document: str | None  # path of the document of the latest turn's first evidence passage
    cue: bool  # the question looks dependent on its own (referring word, few content words)
    pronoun: bool = False  # the question holds a personal pronoun ("it", "she"): it cannot stand alone
    referring: bool = False  # the question holds a referring word ("it", "that", "there"): its cue is not only brevity
    last_passage: str | None = None  # id of the latest turn's first evidence passage (what the user just read)
    questions: tuple[str, ...] = ()  # the latest earlier questions of the topic, in the order asked
    names_nothing: bool = False  # the question has no content words ("Why?", "Where exactly?")

    @property
    def text(self) -> str:
        """The latest earlier questions of the topic as one text, in the order asked (for the dense query)."""
        return " ".join(self.questions)

    def summary(self, limit: int = 6) -> str:
        return " ".join(word for word, _ in self.terms[:limit])


@dataclass
class Conversation:
    """The turns so far. `topic_start` is where the current topic began (an index into `turns`)."""

    turns: list[Answer] = field(default_factory=list)
    topic_start: int = 0
    saved_id: int | None = None  # its id in the history (`qa.history`) once saved or reopened
    corpus: str | None = None  # the corpus its latest turns were asked over (`QAEngine.corpus`; None: unknown)
    recency_decay: float = RECENCY_DECAY  # weight of a turn's words per turn back
    answer_term_weight: float = ANSWER_TERM_WEIGHT  # weight of the words of the answers shown
    section_term_weight: float = SECTION_TERM_WEIGHT  # weight of the section heading of each answer shown

    def clear(self) -> None:
        """Forget everything: the next question starts a new conversation (saved later under a new id)."""
        self.turns.clear()
        self.topic_start = 0
        self.saved_id = None
        self.corpus = None

    def asked_over(self, corpus: str | None) -> None:
        """The next turns are asked over `corpus`: a topic begun over another corpus lends them nothing (its
        documents are not in this one's index)."""
        if corpus is not None and self.corpus is not None and corpus != self.corpus:
            self.new_topic()
        self.corpus = corpus if corpus is not None else self.corpus

    def new_topic(self) -> None:
        """Keep the turns (for history and export) but borrow nothing from them any more."""
        self.topic_start = len(self.turns)

    def add(self, answer: Answer, *, starts_topic: bool = False) -> None:
        if starts_topic:
            self.new_topic()
        self.turns.append(answer)

    @property
    def topic_turns(self) -> list[Answer]:
        return self.turns[self.topic_start :]

    def is_follow_up(self, question: str) -> bool:
        """The lexical test alone: there is a topic and the question looks dependent on it."""
        return bool(self.topic_turns) and has_follow_up_cue(question)

    def context(self, question: str, shared_section: Callable[[str], bool] | None = None) -> TopicContext | None:
        """What the current topic lends to `question` (None when there is no topic). `shared_section` tells
        a section heading that recurs across the documents ("DESCRIPTION"): its words are not carried."""
        topic = self.topic_turns
        if not topic:
            return None
        own = set(tokenize(question))
        weights: dict[str, float] = {}
        spelling: dict[str, str] = {}
        order: dict[str, int] = {}
        questions: list[str] = []
        for age, turn in enumerate(reversed(topic)):
            decay = self.recency_decay**age
            if len(questions) < MAX_CONTEXT_QUESTIONS:
                questions.append(turn.question)
            sources = [(turn.question, 1.0)]
            if self.section_term_weight > 0 and turn.answer is not None:
                cited = turn.passages[turn.answer.passage - 1].citation
                shared = shared_section is not None and shared_section(cited.section)
                if cited.section and cited.section != cited.title and not shared:
                    sources.append((without_outline_number(cited.section), self.section_term_weight))
            if self.answer_term_weight > 0:
                shown = (
                    turn.answer
                    if turn.answer is not None
                    else (turn.passages[0].answer_sentence if turn.passages else None)
                )
                if shown is not None:
                    sources.append((shown.text, self.answer_term_weight))
            for text, weight in sources:
                for word in content_words(text):
                    stems = word_terms(word)
                    if not stems or set(stems) <= own:
                        continue
                    key = " ".join(stems)
                    order.setdefault(key, len(order))
                    spelling.setdefault(key, word)
                    weights[key] = max(weights.get(key, 0.0), decay * weight)
        ranked = sorted(weights, key=lambda key: (-weights[key], order[key]))[:MAX_CARRIED_TERMS]
        return TopicContext(
            terms=tuple((spelling[key], round(weights[key], 6)) for key in ranked),
            last_document=topic[-1].passages[0].citation.path if topic[-1].passages else None,
            cue=has_follow_up_cue(question),
            pronoun=has_personal_pronoun(question),
            referring=has_referring_word(question),
            last_passage=topic[-1].passages[0].id if topic[-1].passages else None,
            questions=tuple(reversed(questions)),
            names_nothing=not content_words(question),
        )

    def retrieval_query(self, question: str) -> str:
        """A readable account of what a follow-up would search for (the engine reports the final one)."""
        context = self.context(question)
        if context is None:
            return question
        return describe_query(question, context)


def describe_query(question: str, context: TopicContext) -> str:
    """`Was it coordinated with anyone? [+ context: weapons depot Idlib Russian]`"""
    summary = context.summary()
    return f"{question} [+ context: {summary}]" if summary else f"{question} [+ context: same documents]"
