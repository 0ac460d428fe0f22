"""The one exception family of corpus-qa: every message is one a user can act on."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error corpus-qa reports to a user (never a bare traceback)."""


class CorpusError(QAError):
    """The corpus path is missing, not a folder, or holds no readable documents."""


class IndexStoreError(QAError):
    """An index on disk is missing, damaged, foreign or locked."""


class ModelError(QAError):
    """An embedding model cannot be found, loaded or trusted."""


class QuestionError(QAError):
    """A question cannot be answered as asked (for example, it is empty)."""
