"""Only `tui` imports Textual: the one-shot CLI path and the `qa`/`index` packages never do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    return set(out.stdout.split())


def test_one_shot_cli_does_not_import_textual() -> None:
    loaded = _modules_after("import qa.cli, qa.engine, qa.render, index.builder")
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded)
    assert not any(m.startswith("tui") for m in loaded)


def test_tui_app_imports_without_torch() -> None:
    loaded = _modules_after("import tui.app")
    assert "textual" in loaded and "torch" not in loaded


def test_stylesheet_ships_with_the_package() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert "tui.widgets" in setuptools["packages"] and "*.tcss" in setuptools["package-data"]["tui"]
    assert (ROOT / "tui" / "app.tcss").is_file()
