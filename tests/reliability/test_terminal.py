"""Terminal safety: hostile documents are shown escaped, checked on the bytes written to a real PTY."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.builder import open_index
from index.corpus import FolderSource
from qa.escape import safe_json, safe_text
from tests.conftest import RecordingReporter

REPO = Path(__file__).resolve().parents[2]
QUESTION = "hostile paragraph terminal attack"

# Each payload would act on a terminal if written raw.
PAYLOADS = {
    "clear screen": "\x1b[2J\x1b[H",
    "OSC 0 title": "\x1b]0;pwned-title\x07",
    "OSC 52 clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "OSC 8 hyperlink": "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "DCS": "\x1bP1$tdcs-payload\x1b\\",
    "APC": "\x1b_apc-payload\x1b\\",
    "C1 CSI": "\x9b2J",
    "C1 OSC": "\x9d0;c1-title\x9c",
    "unterminated OSC": "\x1b]0;never-ends ",
    "bidi override": "\u202eevil\u202c",
    "carriage return": "innocent\rOVERWRITTEN",
    "backspace and bell": "abc\x08\x08\x08xyz\x07",
    "rich markup": "[@click=app.quit]x[/] [bold [/ [link=http://evil.example]y[/link]",
}
# Bytes that must never reach the terminal (the SGR codes of our own colour output are allowed).
FORBIDDEN = [
    b"\x1b]",
    b"\x1bP",
    b"\x1b_",
    b"\x1b[2J",
    b"\x1b[H",
    "\x9b".encode(),
    "\x9d".encode(),
    "\x9c".encode(),
    "\u202e".encode(),
    b"\x07",
    b"\x08",
]
_OUR_SGR = re.compile(rb"\x1b\[[0-9;]*m")


def write_hostile_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    body = [
        f"This hostile paragraph number {i} is a terminal attack of kind {name}: {payload} and then more words."
        for i, (name, payload) in enumerate(PAYLOADS.items())
    ]
    (root / "attacks.txt").write_text(
        "Hostile \x1b]0;title-attack\x07 headline here\n\n" + "\n\n".join(body) + "\n", encoding="utf-8"
    )
    (root / "name \x1b[2J with\nnewline é.txt").write_text(
        "A hostile paragraph about a terminal attack hidden in the file name itself.\n", encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    corpus = write_hostile_corpus(tmp_path_factory.mktemp("hostile") / "corpus")
    index_dir = corpus.parent / "index"
    open_index(FolderSource(corpus), index_dir, embedder, RecordingReporter()).close()
    return corpus, index_dir


def run_on_pty(command: list[str], env: dict[str, str], timeout: float = 120, keys: list[bytes] | None = None) -> bytes:
    """Run `command` with stdin/stdout/stderr on a new pseudo-terminal; everything it wrote, as bytes."""
    master, slave = os.openpty()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, close_fds=True)
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    pending = list(keys or [])
    next_key = time.monotonic() + 4
    try:
        while time.monotonic() < deadline:
            if pending and time.monotonic() >= next_key:
                os.write(master, pending.pop(0))
                next_key = time.monotonic() + 2
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None and not pending:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    return bytes(output)


def assert_terminal_safe(output: bytes) -> None:
    rest = _OUR_SGR.sub(b"", output)
    for forbidden in FORBIDDEN:
        assert forbidden not in rest, f"{forbidden!r} reached the terminal"
    assert b"\x1b" not in rest, "an escape sequence other than our colour codes reached the terminal"
    assert b"\r" not in rest.replace(b"\r\n", b"\n"), "a bare carriage return reached the terminal"


def _env(index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"PYTHONPATH": str(REPO), "QA_INDEX_DIR": str(index_dir), "TERM": "xterm-256color"})
    return env


@pytest.mark.parametrize("color", ["always", "never"])
def test_ask_on_a_pty_shows_hostile_text_escaped(hostile_index: tuple[Path, Path], color: str) -> None:
    corpus, index_dir = hostile_index
    question = QUESTION + " \x1b]0;question-title\x07"  # the question is echoed: it is hostile too
    command = [sys.executable, "-m", "qa.cli", "--corpus", str(corpus), "--ask", question]
    output = run_on_pty([*command, "--top-k", "20", "--color", color], _env(index_dir))
    text = output.decode("utf-8")
    assert "Q: hostile paragraph terminal attack \\x1b]0;question-title\\x07" in text, text[-2000:]
    assert_terminal_safe(output)
    plain = _OUR_SGR.sub(b"", output).decode("utf-8").replace("\r\n", "\n").replace("\n    ", " ")
    # The hostile text itself is there, visibly escaped: the test looked at the payloads.
    # (a lone CR ends a line: the CLI shows it as a space)
    for visible in ("\\x1b]52;c;cm0gLXJmIH4K\\x07", "\\x9b2J", "\\u202eevil", "innocent OVERWRITTEN"):
        assert visible in plain
    assert "[@click=app.quit]x[/]" in plain  # markup is plain text in the CLI: shown as written, not run
    assert "name \\x1b[2J with\\nnewline é.txt" in plain  # the file name in the citation
    if color == "always":
        assert b"\x1b[1m" in output  # our own emphasis is still there


def test_warnings_about_hostile_file_names_are_one_escaped_line(
    hostile_index: tuple[Path, Path], tmp_path: Path
) -> None:
    """A new, skipped file whose name holds escape sequences: the warning on stderr (the same PTY) is inert."""
    corpus, index_dir = hostile_index
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index_dir, tmp_path / "index")  # another folder: rebuilt, reusing every vector (no torch)
    (tmp_path / "corpus" / "evil\x1b]0;pwned\x07\x9b2J\n.txt").write_bytes(b"\x00\x01binary")
    command = [sys.executable, "-m", "qa.cli", "--corpus", str(tmp_path / "corpus"), "--ask", QUESTION, "--quiet"]
    output = run_on_pty(command, _env(tmp_path / "index"))
    assert_terminal_safe(output)
    lines = output.decode("utf-8").split("\r\n")
    (warning,) = [line for line in lines if line.startswith("qa: warning:")]
    expected = "skipped corpus/evil\\x1b]0;pwned\\x07\\x9b2J\\n.txt: binary file (contains NUL bytes)"
    assert warning == f"qa: warning: {expected}"


def test_json_on_a_pty_is_valid_and_inert(hostile_index: tuple[Path, Path]) -> None:
    corpus, index_dir = hostile_index
    command = [sys.executable, "-m", "qa.cli", "--corpus", str(corpus), "--ask", QUESTION, "--json", "--top-k", "20"]
    output = run_on_pty([*command, "--quiet"], _env(index_dir))
    assert_terminal_safe(output)
    lines = [line for line in output.decode("utf-8").split("\r\n") if line.strip()]
    (data,) = [json.loads(line) for line in lines]
    texts = " ".join(p["text"] for p in data["passages"])
    for payload in PAYLOADS.values():  # the JSON carries the document text exactly
        assert payload.replace("\r", "\n") in texts.replace("\r", "\n")


def test_every_escape_is_visible_and_json_round_trips() -> None:
    for payload in PAYLOADS.values():
        shown = safe_text(payload)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
        assert json.loads(safe_json({"t": payload})) == {"t": payload}
        assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e]", safe_json({"t": payload}))


def _tui_app_class() -> type | None:
    import tui.app

    try:
        from textual.app import App
    except ImportError:
        return None
    for value in vars(tui.app).values():
        if isinstance(value, type) and issubclass(value, App) and value is not App:
            return value
    return None


def test_tui_on_a_pty_shows_hostile_text_escaped(hostile_index: tuple[Path, Path]) -> None:
    if _tui_app_class() is None:
        pytest.skip("tui.app has no Textual App yet (the TUI lands from its own branch)")
    corpus, index_dir = hostile_index
    command = [sys.executable, "-m", "qa.cli", "--corpus", str(corpus)]
    keys = [QUESTION.encode() + b"\r", b"\x1b[B", b"\x1b[B", b"\x11"]  # ask, move down twice, ctrl+q
    output = run_on_pty(command, _env(index_dir), timeout=40, keys=keys)
    raw = [b"\x1b]52;", b"\x1b]0;pwned", "\x9d0;c1".encode(), b"\x1bP1$t", b"\x1b_apc", "\x9b2J".encode()]
    for payload in [*raw, b"\x1b]8;;http://evil", "\u202eevil".encode(), b"innocent\rOVER"]:
        assert payload not in output, f"{payload!r} reached the terminal from the TUI"
    # Textual's own sequences (cursor moves, SGR, OSC 22 pointer shape) are fine; the evidence was shown.
    assert b"terminal attack" in re.sub(rb"\x1b\[[0-9;?<>]*[A-Za-z]", b"", output)
