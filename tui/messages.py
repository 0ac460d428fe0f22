"""Messages that workers post to the app (thread-safe): build progress, the engine, answers."""

from __future__ import annotations

from textual.message import Message

from qa.conversation import Conversation
from qa.engine import QAEngine
from qa.types import Answer


class BuildProgressed(Message):
    def __init__(self, stage: str, done: int, total: int) -> None:
        super().__init__()
        self.stage, self.done, self.total = stage, done, total


class BuildNoted(Message):
    """A note or warning from the index builder (shown as a notification)."""

    def __init__(self, text: str, warning: bool) -> None:
        super().__init__()
        self.text, self.warning = text, warning


class EngineReady(Message):
    def __init__(self, engine: QAEngine) -> None:
        super().__init__()
        self.engine = engine


class EngineRefreshed(Message):
    """Files changed since the index was built: it was brought up to date and this engine serves it now."""

    def __init__(self, engine: QAEngine) -> None:
        super().__init__()
        self.engine = engine


class EngineFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class Answered(Message):
    """The answer to request `request_id`, with the conversation that now includes it."""

    def __init__(self, request_id: int, answer: Answer, conversation: Conversation) -> None:
        super().__init__()
        self.request_id, self.answer, self.conversation = request_id, answer, conversation


class AskFailed(Message):
    def __init__(self, request_id: int, error: str) -> None:
        super().__init__()
        self.request_id, self.error = request_id, error
