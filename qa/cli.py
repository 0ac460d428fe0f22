"""`qa`: one-shot questions (`--ask`, `--questions`), JSON output, evaluation, or the TUI.

Exit codes: 0 success, 1 a reported error (bad corpus, damaged index, ...), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from index.errors import QAError
from qa.escape import safe_json, safe_line
from qa.types import DEFAULT_FUSION, DEFAULT_TOP_K, FUSIONS, MODES, Mode

if TYPE_CHECKING:
    from qa.conversation import Conversation
    from qa.engine import QAEngine

PROG = "qa"


def _single_thread_numerics() -> None:
    """Interactive queries are small single operations: one BLAS/OpenMP thread each avoids the collapse
    seen when two threads fight another process for two cores (index builds raise torch's own count).
    Must run before numpy is imported, hence the deferred imports in `main`."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1 or value > 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


LATEST = 0  # `--continue last`: the most recently updated saved conversation


def _saved_id(text: str) -> int:
    if text.strip().lower() == "last":
        return LATEST
    try:
        value = int(text.strip().lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a conversation id: {text!r} (a number, or 'last')") from None
    if value < 1:
        raise argparse.ArgumentTypeError("a conversation id is a number from 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Answer questions over a folder of documents with cited evidence passages. "
        "With no --ask/--questions, opens the interactive terminal UI.",
        epilog="Subcommands: 'qa eval' measures retrieval quality and 'qa eval-conversations' follow-up "
        "questions, each over a benchmark dataset (see their --help).",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="PATH",
        help="folder of text files: .txt, .md, .rst, ..., README (default: bundled seeds)",
    )
    parser.add_argument(
        "--index-dir",
        type=Path,
        metavar="DIR",
        help="where the index lives (default: $QA_INDEX_DIR, else per-corpus "
        "folder under $QA_HOME or the user cache dir)",
    )
    parser.add_argument(
        "--model", metavar="NAME_OR_PATH", help="sentence-transformers model (default: bundled all-MiniLM-L6-v2)"
    )
    parser.add_argument("--ask", action="append", metavar="QUESTION", help="ask a question; repeat for a conversation")
    parser.add_argument(
        "--questions", metavar="FILE", help="answer each line of FILE as its own question ('-' = stdin)"
    )
    parser.add_argument(
        "--save",
        action="store_true",
        help="keep the --ask conversation in the local history (reopen it in the UI with Ctrl+R, or go on "
        "with --continue)",
    )
    parser.add_argument(
        "--continue",
        dest="continue_id",
        type=_saved_id,
        metavar="ID",
        help="go on with saved conversation ID ('last': the latest): the --ask questions follow up on it, "
        "and it is saved again",
    )
    parser.add_argument(
        "--history", action="store_true", help="list the saved conversations and exit (--json: one per line)"
    )
    parser.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode (default: hybrid)")
    parser.add_argument(
        "--fusion",
        choices=FUSIONS,
        default=DEFAULT_FUSION,
        help="how hybrid mode combines BM25 and dense results: convex = weighted sum of min-max-normalised "
        f"scores, rrf = reciprocal rank fusion (default: {DEFAULT_FUSION})",
    )
    parser.add_argument(
        "-k",
        "--top-k",
        type=_positive_int,
        default=DEFAULT_TOP_K,
        metavar="N",
        help=f"passages per answer (default: {DEFAULT_TOP_K})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per question, one per line")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index from scratch")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="emphasis with terminal colours (default: auto)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no progress or notes on stderr (warnings still shown)"
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    return parser


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked: importing importlib.metadata costs ~0.1-0.3 s, which
    every `qa --ask` and `qa --help` paid when the version string was built with the parser."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=str(kwargs.get("help")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("corpus-qa")
    except PackageNotFoundError:
        return "unknown"


def _questions_from(source: str) -> Iterator[str]:
    handle: TextIO
    if source == "-":
        handle = sys.stdin
    else:
        try:
            handle = open(source, encoding="utf-8", errors="replace")
        except OSError as exc:
            raise QAError(f"cannot read questions file {source}: {exc.strerror or exc}") from None
    with handle if source != "-" else _nullcontext(handle):
        for line in handle:
            if line.strip():
                yield line.strip()


class _nullcontext:
    def __init__(self, value: TextIO) -> None:
        self.value = value

    def __enter__(self) -> TextIO:
        return self.value

    def __exit__(self, *exc: object) -> None:
        return None


def _use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _answer_all(engine: QAEngine, args: argparse.Namespace, conversation: Conversation) -> None:
    color = _use_color(args.color)
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    mode: Mode = args.mode
    earlier = len(conversation.turns)
    try:
        _answer_batches(engine, args, conversation, color, width, mode)
    finally:  # the turns answered are kept, also when a later question failed
        if (args.save or args.continue_id is not None) and len(conversation.turns) > earlier:
            _save(conversation, args.quiet)


def _answer_batches(
    engine: QAEngine, args: argparse.Namespace, conversation: Conversation, color: bool, width: int, mode: Mode
) -> None:
    from qa.render import render_answer, timing_line

    batches: list[tuple[Iterator[str] | list[str], bool]] = []
    if args.ask:
        batches.append((args.ask, True))
    if args.questions:
        batches.append((_questions_from(args.questions), False))
    first = True
    for questions, as_conversation in batches:
        for question in questions:
            try:
                answer = engine.ask(
                    question, mode=mode, top_k=args.top_k, conversation=conversation if as_conversation else None
                )
            except QAError as exc:
                if as_conversation:
                    raise
                print(f"qa: {safe_line(str(exc))} (question: {safe_line(question[:80])})", file=sys.stderr)
                continue
            if args.json:
                print(safe_json(answer.to_json()), flush=True)
            else:
                if not first:
                    print("\n" + "─" * min(width, 60) + "\n")
                print(render_answer(answer, width=width, color=color), flush=True)
                if not args.quiet:
                    print(f"qa: {timing_line(answer)}", file=sys.stderr)
            first = False


def _conversation(args: argparse.Namespace) -> Conversation:
    """A new conversation, or with `--continue`, the saved one reopened to go on over the same corpus."""
    from qa.conversation import Conversation
    from qa.engine import corpus_identity
    from qa.history import HistoryError, find_conversation, load_conversation

    if args.continue_id is None:
        return Conversation()
    saved = find_conversation(None if args.continue_id == LATEST else args.continue_id)
    if saved.asked_over_another(corpus_identity(args.corpus)):
        raise HistoryError(
            f"conversation #{saved.id} was asked over {saved.corpus}; go on with it there: --corpus {saved.corpus}"
        )
    return load_conversation(saved.id)


def _save(conversation: Conversation, quiet: bool) -> None:
    from qa.history import save_conversation

    saved_id = save_conversation(conversation)
    if not quiet:
        print(f"qa: saved as conversation #{saved_id} (go on with --continue {saved_id})", file=sys.stderr)


def _recover_history() -> None:
    """A damaged history is moved aside (kept) and a new one started; said on stderr, even with --quiet."""
    from qa.history import recover_history

    aside = recover_history()
    if aside is not None:
        print(
            f"qa: the conversation history was damaged; it is kept as {safe_line(str(aside))} and a new one is started",
            file=sys.stderr,
        )


def _list_history(as_json: bool) -> None:
    import time

    from qa.history import list_conversations

    saved_conversations = list_conversations()
    if not saved_conversations:
        print("qa: no saved conversation yet (--ask ... --save keeps one)", file=sys.stderr)
    for saved in saved_conversations:
        if as_json:
            print(safe_json(asdict(saved)), flush=True)
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(saved.updated))
        turns = f"{saved.turns} turn" + ("" if saved.turns == 1 else "s")
        over = f"  ({safe_line(saved.corpus)})" if saved.corpus else ""
        print(f"#{saved.id}  {when}  {turns}  {safe_line(saved.title)}{over}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Every entry point (`qa`, `qa eval`, `qa eval-conversations`) reports errors here, the same way."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    prog = "qa eval" if args_list[:1] == ["eval"] else PROG
    try:
        return _dispatch(args_list)
    except QAError as exc:
        print(f"{prog}: error: {safe_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error
        return 0


def _dispatch(args_list: list[str]) -> int:
    if args_list[:1] == ["eval"]:
        from qa.eval_cli import main as eval_main

        return eval_main(args_list[1:])
    if args_list[:1] == ["eval-conversations"]:
        from qa.conversation_eval import main as conversation_eval_main

        return conversation_eval_main(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.history:
        if args.ask or args.questions:
            parser.error("--history lists the saved conversations and exits: give it without questions")
        _recover_history()
        _list_history(args.json)
        return 0
    if (args.save or args.continue_id is not None) and not args.ask:
        parser.error("--save and --continue go with --ask (the questions to keep or to go on with)")
    if args.save or args.continue_id is not None:
        _recover_history()
    _single_thread_numerics()
    if not args.ask and not args.questions:
        return _run_tui(args)
    from qa.engine import open_engine
    from qa.progress import StderrReporter

    conversation = _conversation(args)  # before the index is opened: a wrong --continue costs nothing
    reporter = StderrReporter(quiet=args.quiet)
    # A few --ask questions: the numpy query encoder starts ~0.2 s sooner than ONNX Runtime, which only
    # pays that back after dozens of questions (a --questions file).
    encoder = "onnx" if args.questions else "numpy"
    engine = open_engine(
        args.corpus,
        args.index_dir,
        args.model,
        reporter,
        rebuild=args.rebuild,
        fusion=args.fusion,
        query_encoder=encoder,
    )
    try:
        _answer_all(engine, args, conversation)
    finally:
        engine.close()
    return 0


def _run_tui(args: argparse.Namespace) -> int:
    from tui.app import run  # the one deferred import of Textual

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
