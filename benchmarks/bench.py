"""``make bench``: where the training time goes, and how fast the notebooks reach their quality.

    python -m benchmarks                      # every part (notebooks in quick mode): one to two hours
    python -m benchmarks --only loop          # loop overhead only: a few minutes
    python -m benchmarks --only quality,peer  # time to quality, then the TF tutorial's models
    python -m benchmarks --only notebooks --notebook-modes quick,full
    python -m benchmarks --quick              # tiny budgets, every part, under about a minute

Parts: ``loop`` (gan_utils loop vs a fused compiled step, per notebook), ``quality`` (training time
to evaluator thresholds for 02 and 03), ``notebooks`` (execution time of each notebook), ``peer``
(the TF DCGAN tutorial's models to the same thresholds, within a multiple of our time). Prints
Markdown tables and merges each part's results, with the machine it ran on, into the JSON file under the Keras backend's
name (``benchmarks/results.json``; ``--quick`` writes ``benchmarks/results_quick.json``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PARTS = ("loop", "quality", "notebooks", "peer")
HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny budgets: checks that every part runs (numbers mean nothing)")
    p.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: loop, quality, notebooks, peer")
    p.add_argument("--out", type=Path, help="results file (default benchmarks/results.json)")
    g = p.add_argument_group("loop overhead")
    g.add_argument("--models", default="mlp,dcgan,cgan", help="notebooks' models: mlp (01), dcgan (02), cgan (03)")
    g.add_argument("--repeats", type=int, default=7, help="interleaved blocks of each loop")
    g.add_argument("--block-seconds", type=float, default=3.0, help="length of one block")
    g.add_argument("--calls", type=int, default=100, help="timed calls per component in the per-call breakdown")
    g = p.add_argument_group("time to quality and peer")
    g.add_argument("--dcgan-minutes", type=float, default=10.0, help="training budget of the DCGAN (02)")
    g.add_argument("--cgan-minutes", type=float, default=12.0, help="training budget of the CGAN (03)")
    g.add_argument("--eval-every", type=int, default=200, help="generator steps between evaluations")
    g.add_argument("--eval-n", type=int, default=10_000, help="images per evaluation (a fixed z set)")
    g.add_argument("--fd-levels", default="100,50,25,10", help="Frechet distance thresholds")
    g.add_argument("--peer-factor", type=float, default=5.0, help="peer budget: this many times our time")
    g.add_argument("--peer-max-minutes", type=float, default=60.0, help="cap on the peer's budget")
    g = p.add_argument_group("notebooks")
    g.add_argument("--notebook-modes", default="quick", help="quick and/or full (full: 10-30 min per notebook)")
    g.add_argument("--notebook-timeout", type=int, default=3600, help="seconds allowed per cell")
    g.add_argument("--notebooks", default=None,
                   help="which: mlp (01), dcgan (02), cgan (03), tricks (04) (default: all; with --quick: mlp); "
                        "results of earlier runs for the others are kept")
    args = p.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(PARTS)
    if unknown:
        p.error(f"unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    args.models = [s.strip() for s in args.models.split(",") if s.strip()]
    args.fd_levels = tuple(float(s) for s in args.fd_levels.split(","))
    args.notebook_modes = [s.strip() for s in args.notebook_modes.split(",") if s.strip()]
    if set(args.notebook_modes) - {"quick", "full"}:
        p.error("--notebook-modes takes quick and/or full")
    if args.quick:  # tiny budgets: every code path, no meaningful numbers
        args.repeats, args.block_seconds, args.calls = 1, 0.05, 2
        args.dcgan_minutes = args.cgan_minutes = 0.05
        args.eval_every, args.eval_n = 5, 200
        args.peer_max_minutes = 0.05
        args.notebooks = args.notebooks or "mlp"  # one kernel start checks the machinery; tests check every notebook's tags
        if args.models == ["mlp", "dcgan", "cgan"]:
            args.models = ["mlp", "cgan"]  # unconditional and conditional; the DCGAN's compiles are in the quality part
    args.notebooks = args.notebooks or "mlp,dcgan,cgan,tricks"
    if args.out is None:
        args.out = HERE / ("results_quick.json" if args.quick else "results.json")
    return args


def main(argv=None):
    args = parse_args(argv)
    from benchmarks import report

    log = lambda msg: print(msg, flush=True)  # noqa: E731
    machine = report.machine_info()
    log(
        f"machine: {machine['cpu_count']} CPUs ({machine['cpu_model']}), load {machine['load_average_1min']:.1f}; "
        f"Keras {machine['keras']} on {machine['backend']}; {'QUICK: numbers mean nothing' if args.quick else 'full budgets'}"
    )
    results = report.load(args.out)
    mine = results.setdefault(machine["backend"], {})  # parts are stored per Keras backend
    tables = []

    def store(part, settings, data):
        mine[part] = {"machine": report.machine_info(), "quick": args.quick, "settings": settings, "results": data}
        report.save(args.out, results)

    if "loop" in args.only:
        from benchmarks import loop

        data = loop.run(args.models, repeats=args.repeats, block_seconds=args.block_seconds, calls=args.calls, log=log)
        store("loop", {"repeats": args.repeats, "block_seconds": args.block_seconds, "calls": args.calls}, data)
        tables.append(loop_tables(data))
    quality_settings = {"eval_every": args.eval_every, "eval_n": args.eval_n, "fd_levels": args.fd_levels}
    if "quality" in args.only:
        from benchmarks import quality

        data = quality.run(
            args.dcgan_minutes, args.cgan_minutes, args.eval_every, args.eval_n, args.fd_levels, log=log
        )
        store("quality", {**quality_settings, "dcgan_minutes": args.dcgan_minutes, "cgan_minutes": args.cgan_minutes}, data)
        tables.append(quality_tables(data))
    if "notebooks" in args.only:
        from benchmarks import nbtimes
        from benchmarks.notebook_code import NOTEBOOKS

        modes = ["setup-only"] if args.quick else args.notebook_modes
        chosen = [k.strip() for k in args.notebooks.split(",") if k.strip()]
        if set(chosen) - set(NOTEBOOKS):
            raise SystemExit(f"--notebooks takes {', '.join(NOTEBOOKS)}; got {args.notebooks}")
        notebooks = ("mlp",) if args.quick else tuple(chosen)  # --quick: one (a kernel start costs ~10 s)
        data = nbtimes.run(modes, notebooks, timeout=args.notebook_timeout, log=log)
        if not args.quick:  # keep the other notebooks' and modes' earlier measurements
            earlier = mine.get("notebooks", {})
            if not earlier.get("quick", True):
                for name, entries in earlier.get("results", {}).items():
                    for mode, entry in entries.items():
                        data.setdefault(name, {}).setdefault(mode, entry)
        store("notebooks", {"modes": modes, "notebooks": list(notebooks)}, data)
        tables.append(notebook_table(data))
    if "peer" in args.only:
        from benchmarks import peer

        ours = mine.get("quality", {}).get("results", {}).get("dcgan")
        data = peer.run(
            ours, args.peer_factor, args.peer_max_minutes, args.eval_every, args.eval_n, args.fd_levels, log=log
        )
        store("peer", {**quality_settings, "factor": args.peer_factor, "max_minutes": args.peer_max_minutes}, data)
        tables.append(peer_table(data, ours))
    print("\n\n".join(tables))
    print(f"\nresults: {args.out}")


# ----------------------------------------------------------------------------- tables
def loop_tables(data):
    from benchmarks.report import table

    rows = [
        (r["title"], r["batch_size"], r["gan_utils_its_per_s"], r["fused_its_per_s"],
         f"{r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f})",
         r.get("no_monitor_its_per_s"), r.get("no_monitor_ratio_median"),
         r.get("plain_its_per_s"), r.get("plain_ratio_median"), r.get("gan_utils_vs_plain_median"))
        for r in data.values()
    ]
    header = ("model", "batch", "gan_utils it/s", "fused it/s", "ratio", "monitor=False it/s", "its ratio",
              "plain loop it/s", "plain / fused", "gan_utils / plain")
    out = ["Loop overhead (median it/s of interleaved blocks; ratio = gan_utils / fused, median and range of the pairs;"
           " gan_utils as the notebooks run it, with its default training monitor off, and a plain loop of the same"
           " four Keras calls with no bookkeeping)",
           table(header, rows)]
    names = list(next(iter(data.values()))["per_call_us"])
    rows = [(name, *(r["per_call_us"][name] for r in data.values())) for name in names]
    out += ["Per call, microseconds (median of interleaved calls, each timed alone)",
            table(("component", *(r["title"] for r in data.values())), rows)]
    for r in data.values():
        if "profile" in r:
            prof = r["profile"]
            rows = [(f["function"][-70:], f["calls_per_iteration"], f["own_us_per_iteration"], f"{f['share_of_total']:.0%}")
                    for f in prof["top_own_time"][:6]]
            out += [f"cProfile of GAN.fit, {r['title']}: {prof['total_us_per_iteration']:.0f} us per iteration under the profiler",
                    table(("function (own time)", "calls/it", "us/it", "share"), rows)]
    return "\n\n".join(out)


def _minutes(entry):
    return None if not entry else f"{entry['train_seconds'] / 60:.2f} min, {entry['step']} steps"


def quality_tables(data):
    from benchmarks.report import table

    rows = []
    for key, r in data.items():
        for name, entry in r["thresholds"].items():
            rows.append((key, name, _minutes(entry) or f"not within {r['budget_seconds'] / 60:g} min"))
        for mark, fd in r["fd_at_marks"].items():
            if fd is not None:
                rows.append((key, f"FD at {mark}", f"{fd:.1f}"))
        if r["evaluations"]:
            last = r["evaluations"][-1]
            end = "schedule finished" if r.get("schedule_finished") else "budget spent"
            rows.append((key, f"at the end ({end})", f"FD {last['frechet']:.1f} after {_minutes(last)}"))
    return "Time to quality (training time, evaluation excluded)\n\n" + table(("model", "threshold", "reached"), rows)


def notebook_table(data):
    from benchmarks.report import table

    rows = [(name, mode, e["seconds"] if e["ok"] else "FAILED") for name, modes in data.items() for mode, e in modes.items()]
    return "Notebook execution time (seconds, fresh kernel)\n\n" + table(("notebook", "mode", "seconds"), rows)


def peer_table(data, ours):
    from benchmarks.report import table

    rows = []
    for name, peer_entry in data["thresholds"].items():
        our_entry = (ours or {}).get("thresholds", {}).get(name)
        rows.append((name, _minutes(our_entry) or "-", _minutes(peer_entry) or f"not within {data['trained_seconds'] / 60:.1f} min",
                     data["ratios"].get(name, "-")))
    if data["reference_threshold"]:
        budget = f"{data['factor']:g} x our time to {data['reference_threshold']}"
    else:
        budget = "no time of ours to compare with: run the quality part first"
    return (f"Peer: TF DCGAN tutorial's models (budget {data['budget_seconds'] / 60:.1f} min: {budget})\n\n" + table(("threshold", "ours (02)", "TF tutorial", "tutorial / ours"), rows))


if __name__ == "__main__":
    sys.exit(main())
