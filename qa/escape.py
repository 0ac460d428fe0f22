"""Make corpus text safe for a terminal: control, escape and bidi characters become visible escapes.

Documents are data. ESC, other C0/C1 controls, DEL, carriage returns and bidi overrides could clear the
screen, set the title, write the clipboard (OSC 52) or reorder what a citation appears to say; each is
shown as a `\\xNN` / `\\uNNNN` escape instead. Newlines and tabs are kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

from index.tokenize import shown_line

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str, keep_newlines: bool = True) -> str:
    """`text` with every character that could act on a terminal replaced by a visible escape."""
    escaped = _UNSAFE.sub(_visible, text)
    if not keep_newlines:
        escaped = escaped.replace("\n", "\\n")
    return escaped


def safe_line(text: str) -> str:
    """`text` for a single-line message (file names in warnings): newlines escaped too."""
    return safe_text(text, keep_newlines=False)


def one_line(text: str) -> str:
    """Corpus text (an answer sentence spanning list lines, a title) shown on one line: each run of
    whitespace, line breaks included, becomes one space (a word typeset or hyphenated across lines is kept
    whole: `shown_words`); then escaped like `safe_line`."""
    return safe_line(shown_line(text))


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_json(data: Any) -> str:
    """`data` as one line of JSON in which no character can act on a terminal.

    `json.dumps` escapes C0 controls (ESC included) but, with `ensure_ascii=False`, writes DEL, the 8-bit
    C1 controls (U+009B is a CSI on some terminals) and bidi overrides raw; they only occur inside JSON
    strings, where the `\\uXXXX` form decodes to the same text."""
    return _UNSAFE.sub(_json_escape, json.dumps(data, ensure_ascii=False))
