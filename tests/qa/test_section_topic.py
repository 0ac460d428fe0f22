"""In a manual, the topic of a conversation is the section its answers came from, not the whole (long)
document: a question the section does not speak of, whose own words find other passages, begins a topic even
when the document mentions its words somewhere. Real model, real index over a small manual."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qa.context_retrieval import ContextSettings
from qa.conversation import Conversation
from qa.engine import QAEngine
from tests.conftest import engine_over

COMPOUND = """# Compound statements

Compound statements contain groups of other statements; they affect or control the execution of those
other statements in some way.

## The with statement

The with statement is used to wrap the execution of a block with methods defined by a context manager.

The context manager must define two methods: __enter__() is called on entry and its return value is bound
to the target of the as clause, and __exit__() is called on exit.

If an exception is raised inside the block, it is passed to __exit__(); if that method returns a true value,
the exception is suppressed and execution continues after the with statement.

Several context managers can be combined in one with statement, separated by commas.

## Function definitions

You write a function definition with the def keyword; it defines a user-defined function object.
Default parameter values are evaluated once, when the function definition is executed.

A function whose body contains a yield expression is a generator function rather than a plain function.

## The try statement

The try statement specifies exception handlers and cleanup code; the finally clause always runs on the way
out.
"""

YIELD = """# The yield statement

A generator is written as an ordinary function that uses the yield statement wherever it wants to hand a
value back to its caller.

Each time next() is called on the generator, the body runs until the next yield, which suspends it and
produces the value.

When the generator's body reaches a return statement or its end, StopIteration is raised and the generator
is exhausted.
"""

RETURN = """# The return statement

The return statement leaves the current function call with the expression list, or None, as return value.

In an asynchronous generator function, an empty return statement indicates that the generator is done.
"""


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[QAEngine]:  # type: ignore[no-untyped-def]
    engine = engine_over(
        tmp_path_factory.mktemp("manual"), {"compound.md": COMPOUND, "yield.md": YIELD, "return.md": RETURN}, embedder
    )
    yield engine
    engine.close()


def ask_about_the_with_statement(engine: QAEngine, conversation: Conversation) -> None:
    first = engine.ask("What does the with statement do?", conversation=conversation)
    assert first.passages[0].citation.path.endswith("compound.md")
    follow = engine.ask("What methods must the context manager define?", conversation=conversation)
    assert "__enter__" in follow.passages[0].text and conversation.topic_start == 0


def test_a_question_the_topic_s_section_does_not_speak_of_begins_a_topic(manual: QAEngine) -> None:
    conversation = Conversation()
    ask_about_the_with_statement(manual, conversation)
    other = manual.ask("How do I write a generator?", conversation=conversation)
    assert not other.follow_up and other.retrieval_query == other.question
    assert other.context_reason is not None and "(The with statement) holds" in other.context_reason
    assert other.passages[0].citation.path.endswith("yield.md")
    assert conversation.topic_start == 2
    after = manual.ask("Can it return a value?", conversation=conversation)
    assert after.follow_up and "generator" in after.retrieval_query and "manager" not in after.retrieval_query
    assert "generator" in after.passages[0].text


def test_before_the_whole_document_held_its_words_and_it_followed_up(manual: QAEngine) -> None:
    whole = QAEngine(manual.index, manual.embedder, context_settings=ContextSettings(section_moves_on=False))
    conversation = Conversation()
    ask_about_the_with_statement(whole, conversation)
    other = whole.ask("How do I write a generator?", conversation=conversation)
    assert other.follow_up and "manager" in other.retrieval_query


def test_a_question_that_refers_back_stays_in_the_section(manual: QAEngine) -> None:
    conversation = Conversation()
    ask_about_the_with_statement(manual, conversation)
    follow = manual.ask("What if an exception is raised inside it?", conversation=conversation)
    assert follow.follow_up and "suppressed" in follow.passages[0].text


LAMBDA = """# Lambdas

Lambda expressions (sometimes called lambda forms) are used to create anonymous functions.

Note that functions created with lambda expressions cannot contain statements or annotations.
"""

CLASSES = """## Class definitions

A class definition defines a class object and binds it to the class name in the local namespace.

The inheritance list usually gives a list of base classes; a class may inherit from several bases.

Classes without an inheritance list inherit, by default, from the base class object.
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[QAEngine]:  # type: ignore[no-untyped-def]
    texts = {"compound.md": f"{COMPOUND}\n{CLASSES}", "lambda.md": LAMBDA, "yield.md": YIELD, "return.md": RETURN}
    engine = engine_over(tmp_path_factory.mktemp("reference"), texts, embedder)
    yield engine
    engine.close()


def test_a_short_question_finding_by_itself_the_passage_the_context_finds_elsewhere_begins_a_topic(
    reference: QAEngine,
) -> None:
    # Found over Python's reference: "How do I define a class?" after questions on lambdas was a follow-up (two
    # content words are too few to stand alone), so "Can it inherit ...?" then carried the lambda words
    conversation = Conversation()
    first = reference.ask("How do lambda expressions work?", conversation=conversation)
    assert first.passages[0].citation.path.endswith("lambda.md")
    follow = reference.ask("Can they contain statements?", conversation=conversation)
    assert follow.follow_up and "cannot contain statements" in follow.passages[0].text
    other = reference.ask("How do I define a class?", conversation=conversation)
    assert not other.follow_up and other.retrieval_query == other.question
    assert other.context_reason == (
        "a short question whose own words find the section the context finds (Class definitions), elsewhere"
    )
    assert "defines a class object" in other.passages[0].text and conversation.topic_start == 2
    after = reference.ask("Can it inherit from several bases?", conversation=conversation)
    assert after.follow_up and "lambda" not in after.retrieval_query.lower()
    assert "several bases" in after.passages[0].text


def test_before_a_short_question_finding_the_passage_the_context_finds_followed_up(reference: QAEngine) -> None:
    settings = ContextSettings(same_passage_moves_on=False)
    before = QAEngine(reference.index, reference.embedder, context_settings=settings)
    conversation = Conversation()
    for question in ("How do lambda expressions work?", "Can they contain statements?"):
        before.ask(question, conversation=conversation)
    other = before.ask("How do I define a class?", conversation=conversation)
    assert other.follow_up and "lambda" in other.retrieval_query


FUNCTION_TOPIC = """Function definitions
********************

A function definition defines a user-defined function object.

A function definition may be wrapped by one or more decorator expressions. Decorator expressions are evaluated
when the function is defined. Multiple decorators are applied in nested fashion.

Default parameter values are evaluated from left to right when the function definition is executed. It is also
possible to create anonymous functions (functions not bound to a name), for immediate use in expressions. This
uses lambda expressions, described in section Lambdas.
"""

LAMBDA_TOPIC = """Lambdas
*******

Lambda expressions (sometimes called lambda forms) are used to create anonymous functions.

Note that functions created with lambda expressions cannot contain statements or annotations.
"""

CLASS_TOPIC = """Class definitions
*****************

A class definition defines a class object. Classes can also be decorated: the evaluation rules for the decorator
expressions are the same as for function decorators.
"""


@pytest.fixture(scope="module")
def topics(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[QAEngine]:  # type: ignore[no-untyped-def]
    """Python's reference as pydoc prints it: one topic a file, its title line underlined."""
    texts = {"function.txt": FUNCTION_TOPIC, "lambda.txt": LAMBDA_TOPIC, "class.txt": CLASS_TOPIC}
    engine = engine_over(tmp_path_factory.mktemp("topics"), texts, embedder)
    yield engine
    engine.close()


def ask_about_decorators(engine: QAEngine, conversation: Conversation) -> None:
    engine.ask("How do decorators work?", conversation=conversation)
    order = engine.ask("In what order are several decorators applied?", conversation=conversation)
    # "In what order" is the question's phrasing, as "what kind of" is: not a word the answer must hold
    assert order.verdict == "answered" and order.answer is not None
    assert order.answer.text == "Multiple decorators are applied in nested fashion."


def test_a_question_naming_the_part_its_own_words_find_begins_a_topic(topics: QAEngine) -> None:
    # Found over Python's reference: "What is a lambda?" after questions on decorators stayed in the decorators'
    # topic ("too short to stand alone", and function.txt mentions lambda expressions), answered with "This
    # uses lambda expressions, described in section Lambdas."; "Can it contain statements?" then answered
    # with decorators
    conversation = Conversation()
    ask_about_decorators(topics, conversation)
    lam = topics.ask("What is a lambda?", conversation=conversation)
    assert not lam.follow_up and lam.new_topic and lam.retrieval_query == lam.question
    assert lam.context_reason == "it names the part its own words find (Lambdas), not the one just read"
    assert lam.passages[0].citation.path.endswith("lambda.txt") and conversation.topic_start == 2
    after = topics.ask("Can it contain statements?", conversation=conversation)
    assert after.follow_up and "decorator" not in after.retrieval_query.lower()
    assert after.answer is not None and "cannot contain statements" in after.answer.text


def test_before_a_question_naming_the_part_its_own_words_find_stayed_in_the_topic(topics: QAEngine) -> None:
    before = QAEngine(topics.index, topics.embedder, context_settings=ContextSettings(named_section_moves_on=False))
    conversation = Conversation()
    ask_about_decorators(before, conversation)
    lam = before.ask("What is a lambda?", conversation=conversation)
    assert lam.follow_up and lam.passages[0].citation.path.endswith("function.txt")


def test_a_question_naming_the_part_just_read_follows_up(topics: QAEngine) -> None:
    conversation = Conversation()
    first = topics.ask("How are lambda expressions used?", conversation=conversation)
    assert first.passages[0].citation.path.endswith("lambda.txt")
    again = topics.ask("What are lambdas?", conversation=conversation)  # names "Lambdas", which was just read
    assert not again.new_topic and conversation.topic_start == 0
