"""`make bench`'s quick variant (``python -m benchmarks --quick``) runs every part and writes its table
and results file. One subprocess run, shared by the tests of this file (kept apart from test_bench.py
so that pytest-xdist runs it beside the other tests). No timing assertions."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = {"loop", "quality", "notebooks", "peer"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": keras.backend.backend()}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads(out.read_text())[keras.backend.backend()]


def test_every_part_ran_with_machine_info(quick_run):
    _, results = quick_run
    assert set(results) == PARTS
    for part in results.values():
        assert part["quick"] is True
        machine = part["machine"]
        assert machine["cpu_count"] >= 1 and machine["backend"] == keras.backend.backend()
        assert machine["keras"] == keras.__version__ and machine["date"][:2] == "20"


def test_table_printed(quick_run):
    stdout, _ = quick_run
    for title in ("Loop overhead", "Per call, microseconds", "Time to quality", "Notebook execution time", "Peer:"):
        assert title in stdout
    header = next(line for line in stdout.splitlines() if "gan_utils it/s" in line)
    assert [c.strip() for c in header.strip("|").split("|")][:5] == ["model", "batch", "gan_utils it/s", "fused it/s", "ratio"]


def test_loop_part(quick_run):
    loop = quick_run[1]["loop"]["results"]
    assert set(loop) == {"mlp", "cgan"}  # --quick: one unconditional and one conditional model
    for r in loop.values():
        assert r["gan_utils_its_per_s"] > 0 and r["fused_its_per_s"] > 0 and r["ratio_median"] > 0
        assert r["per_call_us"]["G.predict_on_batch"] > 0 and r["profile"]["top_own_time"]
        assert r["plain_its_per_s"] > 0 and r["plain_ratio_median"] > 0 and r["gan_utils_vs_plain_median"] > 0
    assert loop["cgan"]["gan_options"]["num_classes"] == "10"  # read from notebook 03's GAN(...) call


def test_quality_and_peer_parts(quick_run):
    results = quick_run[1]
    quality = results["quality"]["results"]
    assert set(quality) == {"dcgan", "cgan"}
    assert "cond_accuracy" in quality["cgan"]["evaluations"][0]
    for r in quality.values():
        assert r["evaluations"] and np.isfinite(r["evaluations"][-1]["frechet"]) and r["thresholds"]
    assert "averaged" in quality["dcgan"]["scored"] and quality["cgan"]["scored"] == "G as trained"
    peer = results["peer"]["results"]
    assert peer["evaluations"] and set(peer["thresholds"]) == set(quality["dcgan"]["thresholds"])


def test_notebooks_part(quick_run):
    notebooks = quick_run[1]["notebooks"]["results"]
    assert notebooks and all(e["ok"] for modes in notebooks.values() for e in modes.values())
