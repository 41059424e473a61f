"""Part 2, time to quality: training seconds until the evaluator's scores pass fixed thresholds.

The DCGAN (02) and the conditional GAN (03) train exactly as their notebooks do in full mode:
models from the notebook's builders, its ``GAN(...)`` options and its ``gan.fit(...)`` arguments
(data, batch size, epochs and hooks such as the learning-rate decay), with ``verbose=0`` and one
more hook, a ``QualityClock``. Every ``eval_every`` generator steps (and once as the training
clock passes each time mark, 5 and 10 minutes by default) the clock stops, G draws images for a
fixed set of latent vectors (and, for the CGAN, labels: an equal number per digit) and
``MnistEvaluator`` scores them; then the clock runs again. Times are training seconds
(evaluation excluded) at the first evaluation that passes a threshold: an upper bound with a
resolution of ``eval_every`` steps. Where the notebook averages G's weights (a ``WeightAverage``
hook), the averaged G is scored, as the notebook shows it.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.notebook_code import NotebookCode
from gan_utils.training import GAN, Hook, WeightAverage

#: default thresholds
FD_LEVELS = (100.0, 50.0, 25.0, 10.0)
COVERAGE, CONFIDENCE = 10, 0.9
COND_ACCURACY = (0.9, 0.95)
MARKS_S = (300.0, 600.0)


class QualityClock:
    """A training clock that pauses while ``evaluate()`` runs; records scores and stops on a budget.

    Call ``tick(step)`` after every generator step; it returns True when training should stop
    (budget spent, or ``done(records)`` is true).
    """

    def __init__(self, evaluate, every, budget_s, marks_s=MARKS_S, done=None, log=print):
        self.evaluate, self.every, self.budget_s = evaluate, int(every), float(budget_s)
        self.marks = sorted(m for m in marks_s if m <= budget_s)
        self.done = done or (lambda records: False)
        self.log = log
        self.records = []
        self.eval_seconds = 0.0
        self.start = time.perf_counter()

    def train_seconds(self):
        return time.perf_counter() - self.start - self.eval_seconds

    def tick(self, step, final=False):
        """After generator step ``step``: evaluate if due (``final``: always); True means stop."""
        seconds = self.train_seconds()
        mark = None
        if self.marks and seconds >= self.marks[0]:
            mark = self.marks.pop(0)
        over = seconds >= self.budget_s
        if final and self.records and self.records[-1]["step"] == step:
            return True
        if mark is not None or step % self.every == 0 or over or final:
            t0 = time.perf_counter()
            scores = self.evaluate()
            self.eval_seconds += time.perf_counter() - t0
            record = {"step": int(step), "train_seconds": seconds, "mark_seconds": mark, **scores}
            self.records.append(record)
            self.log("    " + ", ".join(f"{k} {_short(v)}" for k, v in record.items() if v is not None))
            return over or final or self.done(self.records)
        return over


def _short(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def first_reaching(records, test):
    """(train_seconds, step) of the first record passing ``test``, or None."""
    for r in records:
        if test(r):
            return {"train_seconds": r["train_seconds"], "step": r["step"]}
    return None


def dcgan_thresholds(fd_levels=FD_LEVELS):
    """name -> test for a DCGAN record (unconditional scores)."""
    tests = {
        f"coverage {COVERAGE} and confidence >= {CONFIDENCE}": lambda r: r["coverage"] >= COVERAGE
        and r["confidence"] >= CONFIDENCE
    }
    for level in fd_levels:
        tests[f"FD < {level:g}"] = lambda r, level=level: r["frechet"] < level
    return tests


def cgan_thresholds(levels=COND_ACCURACY):
    return {f"conditional accuracy >= {a:g}": (lambda r, a=a: r["cond_accuracy"] >= a) for a in levels}


def summarise(records, tests, budget_s, marks_s=MARKS_S):
    """Times to each threshold and the Frechet distance at each time mark."""
    out = {"thresholds": {name: first_reaching(records, test) for name, test in tests.items()}}
    out["fd_at_marks"] = {
        f"{m / 60:g} min": next((r["frechet"] for r in records if r["mark_seconds"] == m), None) for m in marks_s
    }
    out["budget_seconds"] = budget_s
    out["trained_seconds"] = records[-1]["train_seconds"] if records else 0.0
    out["steps"] = records[-1]["step"] if records else 0
    out["evaluations"] = records
    return out


def image_scorer(evaluator, generate, z, labels=None):
    """A function scoring G's images for the fixed ``z`` (and labels) with the evaluator."""

    def evaluate():
        scores = evaluator.evaluate(generate(), labels=labels)
        out = {"frechet": scores["frechet"], "coverage": scores["coverage"], "confidence": scores["confidence"]}
        if labels is not None:
            out["cond_accuracy"] = scores["cond_accuracy"]
        return out

    return evaluate


def fixed_eval_set(latent_dim, n, conditional, seed=12345):
    """Latent vectors (n, latent_dim) and, if conditional, labels with n // 10 of each digit."""
    z = np.random.default_rng(seed).standard_normal((n, latent_dim), dtype=np.float32)
    labels = np.repeat(np.arange(10, dtype=np.int32), n // 10) if conditional else None
    return (z[: len(labels)] if conditional else z), labels


def notebook_run(key, budget_s, every, n_eval, tests, stop_when_all=False, log=print):
    """Train notebook ``key`` ("dcgan" or "cgan") its way under a QualityClock; return the summary."""
    from gan_utils.metrics import MnistEvaluator

    nb = NotebookCode(key, quick=False)
    nb.load_data()
    nb.load_training_defs()
    G, D = nb.build_models()
    args, fit_kwargs = nb.fit_arguments(generator=G)
    gan = GAN(G, D, **nb.gan_kwargs())
    z, labels = fixed_eval_set(gan.latent_dim, n_eval, gan.conditional)
    evaluator = MnistEvaluator()
    evaluator.reference_stats()  # cache the real-image statistics before the clock starts
    done = (lambda recs: all(first_reaching(recs, t) for t in tests.values())) if stop_when_all else None
    # A notebook that averages G's weights (WeightAverage hook) shows the averaged G: score that one.
    averages = [h.state for h in fit_kwargs.get("hooks", []) if isinstance(h.state, WeightAverage)]

    def generate():
        if not (averages and averages[0].count):
            return gan.generate(z, labels)
        current = G.get_weights()
        G.set_weights(averages[0].averaged_weights())
        try:
            return gan.generate(z, labels)
        finally:
            G.set_weights(current)

    clock = QualityClock(image_scorer(evaluator, generate, z, labels), every, budget_s, done=done, log=log)

    def tick(g):
        if clock.tick(g.step):
            g.stop_training = True

    fit_kwargs = {**fit_kwargs, "verbose": 0, "hooks": list(fit_kwargs.get("hooks", [])) + [Hook(tick, every=1)]}
    clock.start = time.perf_counter()
    gan.fit(*args, **fit_kwargs)
    clock.tick(gan.step, final=True)  # the schedule may end between evaluations
    result = summarise(clock.records, tests, budget_s)
    result.update(
        notebook=nb.path.name,
        batch_size=int(fit_kwargs["batch_size"]),
        epochs=fit_kwargs.get("epochs"),
        schedule_finished=not gan.stop_training,
        eval_every=every,
        n_eval=n_eval,
        notebook_hooks=len(fit_kwargs["hooks"]) - 1,
        scored="the weight-averaged G (the notebook's WeightAverage)" if averages else "G as trained",
    )
    return result


def run(dcgan_minutes=10.0, cgan_minutes=12.0, every=200, n_eval=10_000, fd_levels=FD_LEVELS, models=("dcgan", "cgan"), log=print):
    """Part 2: {"dcgan": summary, "cgan": summary}."""
    results = {}
    if "dcgan" in models:
        log(f"time to quality: DCGAN (02), budget {dcgan_minutes:g} min of training ...")
        results["dcgan"] = notebook_run("dcgan", 60 * dcgan_minutes, every, n_eval, dcgan_thresholds(fd_levels), log=log)
    if "cgan" in models:
        log(f"time to quality: CGAN (03), budget {cgan_minutes:g} min of training ...")
        results["cgan"] = notebook_run(
            "cgan", 60 * cgan_minutes, every, n_eval, cgan_thresholds(), stop_when_all=True, log=log
        )
    return results
