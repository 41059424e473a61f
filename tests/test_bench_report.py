"""The benchmark's bookkeeping on tiny inputs (benchmarks/bench.py, report.py, loop.py, quality.py, peer.py): the
command line and its ``--quick`` budgets, the Markdown tables exactly as printed, the results file, the summaries.

Nothing is trained or timed here; ``make bench BENCH_ARGS=--quick`` runs every part end to end (it is not part of
``make unit``). The pieces that train (the fused step, the plain loop) are compared with the trainer in test_bench.py.
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench, peer, quality, report  # noqa: E402
from benchmarks.loop import readable_value  # noqa: E402


# ------------------------------------------------------------------------------------------------ the command line
def test_default_arguments_run_every_part_with_full_budgets():
    args = bench.parse_args([])
    assert args.only == ["loop", "quality", "notebooks", "peer"] and not args.quick
    assert args.models == ["mlp", "dcgan", "cgan"] and args.fd_levels == (100.0, 50.0, 25.0, 10.0)
    assert (args.repeats, args.block_seconds, args.calls) == (7, 3.0, 100)
    assert (args.dcgan_minutes, args.cgan_minutes, args.eval_every, args.eval_n) == (10.0, 12.0, 200, 10_000)
    assert args.notebooks == "mlp,dcgan,cgan,tricks" and args.notebook_modes == ["quick"]
    assert args.out == ROOT / "benchmarks" / "results.json"


def test_quick_shrinks_every_budget_and_writes_its_own_file():
    """``make bench BENCH_ARGS=--quick``: every part on tiny budgets, its results apart from the real ones."""
    args = bench.parse_args(["--quick"])
    assert args.quick and args.only == list(bench.PARTS)
    assert (args.repeats, args.block_seconds, args.calls) == (1, 0.05, 2)
    assert (args.dcgan_minutes, args.cgan_minutes, args.peer_max_minutes) == (0.05, 0.05, 0.05)
    assert (args.eval_every, args.eval_n) == (5, 200)
    assert args.models == ["mlp", "cgan"] and args.notebooks == "mlp"
    assert args.out == ROOT / "benchmarks" / "results_quick.json"
    chosen = bench.parse_args(["--quick", "--models", "dcgan", "--only", "loop, peer", "--fd-levels", "50,5"])
    assert chosen.models == ["dcgan"] and chosen.only == ["loop", "peer"] and chosen.fd_levels == (50.0, 5.0)


@pytest.mark.parametrize("argv", [["--only", "loop,speed"], ["--notebook-modes", "quick,slow"]])
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2
    assert ("unknown part(s) ['speed']" if argv[0] == "--only" else "--notebook-modes takes quick and/or full") in (
        capsys.readouterr().err)


# ------------------------------------------------------------------------------------------------ tables
def test_table_is_markdown_with_right_aligned_columns():
    assert report.table(("model", "it/s"), [("mlp", 0.123456), ("dcgan", 1234.6), ("cgan", None)]) == (
        "| model |  it/s |\n"
        "|------:|------:|\n"
        "|   mlp | 0.123 |\n"
        "| dcgan |  1235 |\n"
        "|  cgan |     - |")


def test_number_format():
    assert [report._fmt(v) for v in (None, 0.0, 2.5e-05, 99.94, 100.4, 12345.0, 7, "x")] == [
        "-", "0", "2.5e-05", "99.9", "100", "12345", "7", "x"]


def test_notebook_table():
    data = {"mlp": {"quick": {"seconds": 61.25, "ok": True}, "full": {"seconds": 0.0, "ok": False}}}
    assert bench.notebook_table(data) == (
        "Notebook execution time (seconds, fresh kernel)\n\n"
        "| notebook |  mode | seconds |\n"
        "|---------:|------:|--------:|\n"
        "|      mlp | quick |    61.2 |\n"
        "|      mlp |  full |  FAILED |")


def _loop_result():
    return {"title": "1-D MLP GAN (01)", "batch_size": 256, "gan_utils_its_per_s": 250.0, "fused_its_per_s": 500.0,
            "ratio_median": 0.5, "ratio_min": 0.25, "ratio_max": 0.75, "no_monitor_its_per_s": 260.0,
            "no_monitor_ratio_median": 0.52, "plain_its_per_s": 300.0, "plain_ratio_median": 0.6,
            "gan_utils_vs_plain_median": 0.8333, "per_call_us": {"G.predict_on_batch": 400.0, "combined": 1500.0},
            "profile": {"total_us_per_iteration": 4000.0, "top_own_time": [
                {"function": "keras/trainer.py:10(train_on_batch)", "calls_per_iteration": 3.0,
                 "own_us_per_iteration": 800.0, "share_of_total": 0.2}]}}


def test_loop_tables():
    lines = bench.loop_tables({"mlp": _loop_result()}).split("\n")
    header = next(line for line in lines if "gan_utils it/s" in line)
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "model", "batch", "gan_utils it/s", "fused it/s", "ratio", "monitor=False it/s", "its ratio",
        "plain loop it/s", "plain / fused", "gan_utils / plain"]
    row = lines[lines.index(header) + 2]
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "1-D MLP GAN (01)", "256", "250", "500", "0.50 (0.25-0.75)", "260", "0.52", "300", "0.6", "0.833"]
    assert "| G.predict_on_batch |              400 |" in lines and "|           combined |             1500 |" in lines
    assert "cProfile of GAN.fit, 1-D MLP GAN (01): 4000 us per iteration under the profiler" in lines
    assert "| keras/trainer.py:10(train_on_batch) |        3 |   800 |   20% |" in lines


def test_quality_table_names_unreached_thresholds_and_the_end():
    data = {"dcgan": {"thresholds": {"FD < 50": {"train_seconds": 90.0, "step": 400}, "FD < 10": None},
                      "fd_at_marks": {"5 min": 20.04, "10 min": None}, "budget_seconds": 600.0,
                      "evaluations": [{"frechet": 18.25, "train_seconds": 600.0, "step": 2000}],
                      "schedule_finished": False}}
    assert bench.quality_tables(data) == (
        "Time to quality (training time, evaluation excluded)\n\n"
        "| model |                 threshold |                             reached |\n"
        "|------:|--------------------------:|------------------------------------:|\n"
        "| dcgan |                   FD < 50 |                 1.50 min, 400 steps |\n"
        "| dcgan |                   FD < 10 |                   not within 10 min |\n"
        "| dcgan |               FD at 5 min |                                20.0 |\n"
        "| dcgan | at the end (budget spent) | FD 18.2 after 10.00 min, 2000 steps |")


def test_peer_table_with_and_without_our_time():
    ours = {"thresholds": {"FD < 50": {"train_seconds": 60.0, "step": 300}}}
    theirs = {"thresholds": {"FD < 50": {"train_seconds": 240.0, "step": 900}}, "trained_seconds": 300.0,
              "budget_seconds": 300.0, "factor": 5.0, "reference_threshold": "FD < 50",
              "ratios": peer.ratios(ours, {"thresholds": {"FD < 50": {"train_seconds": 240.0}},
                                           "trained_seconds": 300.0})}
    assert theirs["ratios"] == {"FD < 50": "4.0x"}
    lines = bench.peer_table(theirs, ours).split("\n")
    assert lines[0] == "Peer: TF DCGAN tutorial's models (budget 5.0 min: 5 x our time to FD < 50)"
    assert [c.strip() for c in lines[4].strip("|").split("|")] == [
        "FD < 50", "1.00 min, 300 steps", "4.00 min, 900 steps", "4.0x"]
    alone = dict(theirs, reference_threshold=None, thresholds={"FD < 50": None}, ratios={})
    lines = bench.peer_table(alone, None).split("\n")
    assert lines[0].endswith("(budget 5.0 min: no time of ours to compare with: run the quality part first)")
    assert [c.strip() for c in lines[4].strip("|").split("|")] == ["FD < 50", "-", "not within 5.0 min", "-"]


# ------------------------------------------------------------------------------------------------ values and files
def test_optimizers_are_stored_readably():
    assert readable_value(keras.optimizers.Adam(2e-4, beta_1=0.5)) == "Adam(learning_rate=0.0002, beta_1=0.5)"
    assert readable_value(keras.optimizers.SGD(3e-3)) == "SGD(learning_rate=0.003)"
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, 100, alpha=0.02)
    assert readable_value(keras.optimizers.Adam(schedule)).startswith("Adam(learning_rate=CosineDecay{")
    assert readable_value(10) == "10" and readable_value(0.9) == "0.9" and readable_value("minimax") == "'minimax'"


def test_results_file_round_trip(tmp_path):
    path = tmp_path / "results.json"
    assert report.load(path) == {}
    report.save(path, {"tensorflow": {"loop": {"ratio": np.float32(0.5), "steps": np.int64(3), "its": np.arange(3.0)}}})
    assert report.load(path) == {"tensorflow": {"loop": {"ratio": 0.5, "steps": 3, "its": [0.0, 1.0, 2.0]}}}
    assert json.loads(path.read_text()) == report.load(path) and list(tmp_path.iterdir()) == [path]
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        report.save(path, {"x": object()})
    assert report.load(path)["tensorflow"]["loop"]["steps"] == 3  # a failed save leaves the file as it was


def test_machine_info_names_this_stack():
    info = report.machine_info()
    assert info["backend"] == keras.backend.backend() and info["keras"] == keras.__version__
    assert info["numpy"] == np.__version__ and info["cpu_count"] >= 1 and info["date"][:2] == "20"
    assert info[info["backend"]] and info["devices"]


def test_summary_of_quality_records():
    """Each threshold at the first evaluation that passes it; the time marks' Frechet distances; the totals."""
    records = [{"step": 5, "train_seconds": 1.0, "mark_seconds": None, "frechet": 80.0},
               {"step": 10, "train_seconds": 120.5, "mark_seconds": 120.0, "frechet": 40.0},
               {"step": 15, "train_seconds": 130.0, "mark_seconds": None, "frechet": 45.0}]
    tests = {f"FD < {level:g}": (lambda r, level=level: r["frechet"] < level) for level in (100.0, 50.0, 10.0)}
    out = quality.summarise(records, tests, budget_s=130.0, marks_s=(120.0, 600.0))
    assert out["thresholds"] == {"FD < 100": {"train_seconds": 1.0, "step": 5},
                                 "FD < 50": {"train_seconds": 120.5, "step": 10}, "FD < 10": None}
    assert out["fd_at_marks"] == {"2 min": 40.0, "10 min": None}
    assert (out["trained_seconds"], out["steps"], out["budget_seconds"]) == (130.0, 15, 130.0)
    assert quality.summarise([], tests, budget_s=1.0)["thresholds"] == dict.fromkeys(tests)
    assert list(quality.cgan_thresholds()) == ["conditional accuracy >= 0.9", "conditional accuracy >= 0.95"]
