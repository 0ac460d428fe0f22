"""Where the shared benchmark datasets are, for the tests that use them (they skip when none is found):
`$QA_EVAL_DIR`, else `shared/eval` beside the repository, else /work/shared/eval."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def eval_root() -> Path | None:
    for candidate in (os.environ.get("QA_EVAL_DIR"), str(REPO.parent / "shared" / "eval"), "/work/shared/eval"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def eval_dataset(name: str, required: tuple[str, ...]) -> Path | None:
    """The folder of dataset `name` holding every file of `required` (`$QA_EVAL_DIR` may also be that
    folder itself)."""
    root = eval_root()
    for folder in (root, root / name) if root is not None else ():
        if all((folder / f).is_file() for f in required):
            return folder
    return None
