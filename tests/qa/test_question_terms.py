from __future__ import annotations

from qa.answer import coverage
from qa.question_terms import as_written, demonym_places, question_names, question_terms


def test_the_words_of_a_questions_phrasing_are_not_searched_for() -> None:
    assert question_terms("How many IS sites were hit?") == ["is", "site", "hit"]
    assert question_terms("how much money did it cost?") == ["money", "cost"]
    assert question_terms("What happened on February 20?") == ["februari", "20"]
    assert question_terms("What has happened to Dane?") == ["dane"]
    assert question_terms("What type of animal was piloting the boat?") == ["anim", "pilot", "boat"]
    assert question_terms("Since when?") == []
    assert question_terms("Since when has HTS controlled Idlib?") == ["hts", "control", "idlib"]
    assert question_terms("How long ago did it start?") == ["start"]
    assert question_terms("In what order are several decorators applied?") == ["sever", "decor", "appli"]
    assert question_terms("What order did the shop send?") == ["order", "shop", "send"]  # an order, the thing
    # the same words asked about stay
    assert question_terms("How long is the Nile?") == ["long", "nile"]
    assert question_terms("Why did it happen so many times?") == ["mani", "time"]
    assert question_terms("When did the series of strikes happen?") == ["seri", "strike"]
    assert question_terms("It happened in Idlib?") == ["happen", "idlib"]  # no question word: the word asked about


def test_names_are_capitalised_words_that_start_no_sentence() -> None:
    assert question_names("What did Putin say about the WHO?") == ["Putin", "WHO"]
    assert question_names("Tell me about Idlib. Describe the war in it.") == ["Idlib"]
    # no name: a stopword, a single letter, a code with digits, abbreviations cut into letters
    assert question_names("Explain the Of and big O of YAP1 in Romans3:28 for the U.S. army") == []
    assert question_names("WHAT IS THE STATUS OF IDLIB?") == ["STATUS", "IDLIB"]  # shouted: "IS" is the verb


def test_a_demonym_is_covered_where_its_place_is() -> None:
    # "How many people died in the Rwandan genocide?" over "(CNN) -- A 42-year-old immigrant from Rwanda ... the
    # 1994 genocide that left up to 800,000 people dead" was "No good evidence" (46% of the key terms)
    assert demonym_places("rwandan") == ["rwand", "rwanda"]
    assert demonym_places("iraqi") == ["iraq"]
    assert demonym_places("ian") == []
    text = "An immigrant from Rwanda is accused of taking part in the 1994 genocide."
    assert coverage(text, {"rwandan": 1.0, "genocid": 1.0}) == 1.0
    assert coverage(text, {"iranian": 1.0, "genocid": 1.0}) == 0.5


def test_terms_are_shown_as_the_question_writes_them() -> None:
    question = "How many sorties did Peskov's Su-34 jets fly?"
    terms = question_terms(question)
    assert "sorti" in terms  # stemmed: shown to the user, it would read as a typo
    assert as_written(question, ["peskov", "sorti"]) == "sorties, Peskov"
    assert as_written(question, ["zakharova"]) == "zakharova"  # not in the question: as it is
