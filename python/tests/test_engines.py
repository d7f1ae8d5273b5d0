"""examples/spark_segment.py (PySpark, pipe and UDF modes) and examples/ray_segment.py (Ray Data)
write exactly what `fenci segment --model default` writes, line for line and in order.

Needs pyspark (with Java) and ray[data] (.ci/run installs them). Without them the tests skip,
unless FENCI_REQUIRE_ENGINES is set: then they fail. FENCI_ENGINES_LINES sets the number of
input lines (default 100,000 short lines).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FENCI_SHARED", ROOT.parent / "shared"))
FENCI = os.environ.get("FENCI_BIN", str(ROOT / "target" / "release" / "fenci"))
TEST = SHARED / "data" / "pku1998" / "test.seg.txt"
LINES = int(os.environ.get("FENCI_ENGINES_LINES", "100000"))


def need(module):
    try:
        __import__(module)
    except ImportError as e:
        if os.environ.get("FENCI_REQUIRE_ENGINES"):
            pytest.fail(f"FENCI_REQUIRE_ENGINES is set but {module} cannot be imported: {e}")
        pytest.skip(f"{module} is not installed (pip install pyspark==3.5.3 'ray[data]==2.40.0')")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """LINES short lines (the test split's clauses, at most 10 characters), and fenci's output."""
    if not TEST.exists():
        pytest.fail(f"{TEST} is missing: the tests need ../shared beside the repository")
    clauses = []
    for line in TEST.read_text(encoding="utf-8").splitlines():
        for c in re.split(r"(?<=[，。！？；：])", line.replace(" ", "")):
            clauses += [c[i : i + 10] for i in range(0, len(c), 10)]
    clauses.append("")  # an empty line stays an empty line
    lines = [clauses[i % len(clauses)] for i in range(LINES)]
    d = tmp_path_factory.mktemp("engines")
    src = d / "input.txt"
    src.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    with open(src, "rb") as f:
        ref = subprocess.run(
            [FENCI, "segment", "--model", "default"], stdin=f, capture_output=True, check=True
        ).stdout.decode("utf-8")
    assert ref.count("\n") == LINES
    return src, ref


def run_example(script, src, out, *args):
    env = dict(os.environ, FENCI_BIN=FENCI)
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), str(src), str(out), *args],
        capture_output=True, text=True, env=env,
    )
    assert r.returncode == 0, f"{script} {args} failed:\n{r.stdout}\n{r.stderr[-5000:]}"
    print(r.stdout.strip().splitlines()[-1])  # lines/s, shown with pytest -s
    return out.read_text(encoding="utf-8")


def assert_same(got, want):
    got_lines, want_lines = got.split("\n"), want.split("\n")
    assert len(got_lines) == len(want_lines), f"{len(got_lines) - 1} lines, want {len(want_lines) - 1}"
    for i, (g, w) in enumerate(zip(got_lines, want_lines)):
        assert g == w, f"line {i + 1}: {g!r} != {w!r}"


# The engines are checked before the corpus fixture runs fenci on it (request.getfixturevalue).
@pytest.mark.parametrize("mode", ["pipe", "udf"])
def test_spark(request, tmp_path, mode):
    need("pyspark")
    need("pandas")
    need("pyarrow")
    src, ref = request.getfixturevalue("corpus")
    out = tmp_path / f"spark-{mode}.txt"
    assert_same(run_example("spark_segment.py", src, out, "--mode", mode, "--workers", "2", "--fenci", FENCI), ref)


def test_ray(request, tmp_path):
    need("ray.data")
    src, ref = request.getfixturevalue("corpus")
    out = tmp_path / "ray.txt"
    assert_same(run_example("ray_segment.py", src, out, "--workers", "2"), ref)
