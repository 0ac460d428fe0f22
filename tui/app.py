"""Entry point of the terminal UI (the full app is tracked as its own issue)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    print(
        'qa: the interactive UI is not available in this version yet; ask with: qa --ask "your question"',
        file=sys.stderr,
    )
    return 2
