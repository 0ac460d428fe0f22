"""One-shot CLI cost: `qa --ask` in a cold process over the already-built seeds index, `qa --help`, and
proof that the one-shot path never imports torch (sys.modules) nor Textual; plus the same question
answered warm in-process, to show both paths give the same answer.

    PYTHONPATH=. QA_HOME=/tmp/bench-qahome python benchmarks/bench_cli.py [--runs 10]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the warm in-process part runs single-threaded, as `qa` does
# the cold commands and the warm in-process engine must read the same seeds index (without QA_HOME the
# engine opened the user's, built by other code, and one score differed in its 7th digit)
os.environ.setdefault("QA_HOME", "/tmp/bench-qahome")

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import median, percentile, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who owned the weapons depot that Russian jets struck in Idlib?"
PROBE = (
    "import sys, json, io, contextlib\n"
    "from qa.cli import main\n"
    "out = io.StringIO()\n"
    "with contextlib.redirect_stdout(out):\n"
    "    code = main(sys.argv[1:])\n"
    "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'textual') if m in sys.modules)\n"
    "print(json.dumps({'code': code, 'heavy': heavy, 'modules': len(sys.modules)}))\n"
)


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QA_HOME": os.environ["QA_HOME"],
        "HF_HUB_OFFLINE": "1",
        **(extra or {}),
    }


def wall(command: list[str], extra_env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, env=env(extra_env), capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr[-2000:]}")
    return seconds, result.stdout


def same_evidence(a: object, b: object) -> bool:
    """Equal JSON but for floats, which may differ by 1e-5."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-5
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_evidence(a[k], b[k]) for k in a if k != "timings_ms")
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_evidence(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    python = sys.executable
    ask = [python, "-m", "qa.cli", "--ask", QUESTION, "--json", "--quiet"]
    wall(ask)  # builds the seeds index on first use (not timed)
    rows = []
    results: dict[str, list[float]] = {}
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "python -c pass (interpreter floor)": ([python, "-c", "pass"], None),
        "python -c 'import numpy' (floor)": ([python, "-c", "import numpy"], None),
        "qa --help": ([python, "-m", "qa.cli", "--help"], None),
        "qa --ask ... --json (cold)": (ask, None),
        "qa --ask ... --json (cold, QA_QUERY_ENCODER=numpy)": (ask, {"QA_QUERY_ENCODER": "numpy"}),
    }
    for _ in range(runs):  # interleaved, so background load hits every command alike
        for name, (command, extra_env) in commands.items():
            results.setdefault(name, []).append(wall(command, extra_env)[0])
    for name, values in results.items():
        rows.append([name, median(values) * 1000, percentile(values, 0.95) * 1000, min(values) * 1000])
    print(table(["command", "wall p50 ms", "wall p95 ms", "min ms"], rows))

    _, probe = wall([python, "-c", PROBE, "--ask", QUESTION, "--json", "--quiet"])
    facts = json.loads(probe.strip().splitlines()[-1])
    print(f"\nheavy modules imported by `qa --ask`: {facts['heavy'] or 'none'} ({facts['modules']} modules in all)")
    importtime = subprocess.run(
        [python, "-X", "importtime", "-m", "qa.cli", "--ask", QUESTION, "--json", "--quiet"],
        env=env(), capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    lines = [line for line in importtime.stderr.splitlines() if line.startswith("import time:")]
    torch_lines = [line for line in lines if line.rstrip().endswith(("| torch", "| sentence_transformers"))]
    parsed = [[part.strip() for part in line.split(":", 1)[1].split("|")] for line in lines[1:]]
    slowest = sorted(parsed, key=lambda p: -int(p[1]))[:6]
    print(f"-X importtime: {len(lines) - 1} imports, torch lines: {len(torch_lines)}; slowest cumulative:")
    for _, cumulative, name in slowest:
        print(f"    {int(cumulative) / 1000:>8.1f} ms  {name}")

    # Cold and warm give the same answer: `qa --ask` embeds the question with numpy; a long-lived process
    # (the TUI) with ONNX Runtime, whose vectors differ in the 7th decimal: same passages and sentences.
    _, cold = wall(ask)
    from benchmarks.common import QuietReporter
    from qa.engine import open_engine

    cold_answer = json.loads(cold.strip().splitlines()[-1])
    cold_answer.pop("timings_ms", None)
    for encoder in ("numpy", "onnx"):
        engine = open_engine(None, None, None, QuietReporter("[warm] "), query_encoder=encoder)
        engine.ask(QUESTION)  # warm-up
        warm_times = []
        for _ in range(20):
            started = time.perf_counter()
            warm = engine.ask(QUESTION)
            warm_times.append((time.perf_counter() - started) * 1000)
        warm_answer = json.loads(json.dumps(warm.to_json(), ensure_ascii=False))
        warm_answer.pop("timings_ms", None)
        stages = {name: round(ms, 1) for name, ms in warm.timings_ms.items()}
        print(f"\nwarm in-process ask, {encoder} query encoder: p50 {median(warm_times):.1f} ms; last {stages}")
        print(f"cold answer == warm answer (full JSON, timings excluded): {cold_answer == warm_answer}")
        same = same_evidence(cold_answer, warm_answer)
        print(f"same evidence (passages, sentences, citations; scores within 1e-5): {same}")
        engine.close()
    answer = cold_answer.get("answer") or {}
    print(f"answer: {str(answer.get('text', cold_answer.get('verdict')))[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
