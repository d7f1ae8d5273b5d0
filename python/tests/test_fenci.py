"""The Python package against the command line: the same words, the same records.

Run from the repository's top level after `cargo build --release` and `pip install ./python`:
    python3 -m pytest python/tests
FENCI_BIN names the fenci binary (default target/release/fenci); the shared data is ../shared.
"""

import gc
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

import fenci

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FENCI_SHARED", ROOT.parent / "shared"))
FENCI = os.environ.get("FENCI_BIN", str(ROOT / "target" / "release" / "fenci"))
TEST = SHARED / "data" / "pku1998" / "test.seg.txt"


@pytest.fixture(scope="module")
def seg():
    return fenci.Segmenter()


@pytest.fixture(scope="module")
def test_lines():
    if not TEST.exists():
        pytest.fail(f"{TEST} is missing: the tests need ../shared beside the repository")
    return [l.replace(" ", "") for l in TEST.read_text(encoding="utf-8").splitlines()]


def fenci_cli(args, text, home):
    env = dict(os.environ, FENCI_HOME=str(home))
    r = subprocess.run(
        [FENCI, *args], input=text.encode("utf-8"), capture_output=True, env=env, check=True
    )
    return r.stdout.decode("utf-8")


def test_cut_equals_fenci_segment_on_the_test_split(seg, test_lines, tmp_path):
    text = "".join(l + "\n" for l in test_lines)
    cli = [l.split(" ") if l else [] for l in fenci_cli(["segment", "--model", "default"], text, tmp_path).splitlines()]
    got = seg.cut_batch(test_lines)
    assert len(got) == len(test_lines) == len(cli)
    assert got == cli
    # cut, one line at a time, and the module-level one-liner agree.
    assert [seg.cut(l) for l in test_lines[:50]] == cli[:50]
    assert fenci.cut(test_lines[0]) == cli[0]


def test_explain_matches_the_jsonl_records(seg, test_lines, tmp_path):
    lines = test_lines[:40] + ["我很累。", "他用iPhone拍了几张照片😀。"]
    text = "".join(l + "\n" for l in lines)
    out = fenci_cli(["segment", "--model", "default", "--format", "jsonl"], text, tmp_path)
    cli = [json.loads(l) for l in out.splitlines()]
    assert len(cli) == len(lines)
    for line, want in zip(lines, cli):
        got = seg.explain(line)
        assert got["line"] == 1
        want["line"] = 1
        # The same records; probabilities may differ in the last printed digit, since the
        # command segments the lines in one batch (other matrix shapes) and explain one alone.
        assert_close(got, want, line)
    words = seg.explain("我很累")["words"]
    assert [w["text"] for w in words] == ["我", "很", "累"]
    assert words[2]["pinyin"] == "lèi"
    with pytest.raises(ValueError, match="one line"):
        seg.explain("第一行\n第二行")


def assert_close(a, b, where):
    if isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= 1e-3, f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: {a} != {b}"
        for k in a:
            assert_close(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_user_dictionary_as_a_list_and_as_a_file(tmp_path):
    assert fenci.Segmenter().cut("我爱北京天安门") == ["我", "爱", "北京", "天安门"]
    assert fenci.Segmenter(user_dict=["北京天安门"]).cut("我爱北京天安门") == ["我", "爱", "北京天安门"]
    d = tmp_path / "dict.txt"
    d.write_text("# my words\n北京天安门\n\n", encoding="utf-8")
    assert fenci.Segmenter(user_dict=str(d)).cut("我爱北京天安门") == ["我", "爱", "北京天安门"]
    assert fenci.Segmenter(user_dict=d).cut("我爱北京天安门") == ["我", "爱", "北京天安门"]
    with pytest.raises(OSError, match="missing.txt"):
        fenci.Segmenter(user_dict=str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="user_dict"):
        fenci.Segmenter(user_dict=3)


def test_a_bad_model_raises_a_clear_exception(tmp_path):
    with pytest.raises(fenci.FenciError, match="cannot load model .*not a model directory"):
        fenci.Segmenter(model=str(tmp_path / "nowhere"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    (broken / "vocab.txt").write_text("[PAD]\n", encoding="utf-8")
    (broken / "model.safetensors").write_bytes(b"\0" * 16)
    with pytest.raises(fenci.FenciError, match="cannot load model"):
        fenci.Segmenter(model=str(broken))
    with pytest.raises(ValueError, match="threads"):
        fenci.Segmenter(threads=0)


def test_odd_input_gives_sane_output(seg):
    assert seg.cut("") == []
    assert seg.cut_batch([]) == []
    assert seg.cut_batch(["", "  ", "好"]) == [[], [], ["好"]]
    odd = "abc 123，中文😀\t\x01"
    assert "".join(seg.cut(odd)) == "".join(c for c in odd if not c.isspace())
    assert seg.explain("")["words"] == []
    long = "我们今天去公园散步。" * 3000
    assert "".join(seg.cut(long)) == long


def test_cut_batch_from_two_threads_at_once(seg, test_lines):
    want = seg.cut_batch(test_lines[:300])
    results = [None, None]
    errors = []

    def work(k):
        try:
            results[k] = seg.cut_batch(test_lines[:300])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [want, want]


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    pytest.skip("no /proc/self/status")


def test_no_leak_over_ten_thousand_calls(seg):
    # Short lines, so that 10,000 calls take seconds, not minutes.
    lines = ["我爱北京天安门", "今天天气很好。", "他在学习中文", "下次再来！", "好"]
    for l in lines * 20:
        seg.cut(l)
        seg.explain(l)
    gc.collect()
    before = rss_kb()
    for i in range(10_000):
        seg.cut(lines[i % len(lines)])
        if i % 10 == 0:
            seg.explain(lines[i % len(lines)])
    gc.collect()
    grown = rss_kb() - before
    assert grown < 20_000, f"RSS grew by {grown} kB over 10,000 calls"
