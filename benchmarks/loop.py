"""Part 1, loop overhead: the gan_utils ``train_on_batch`` loop against the fused reference step.

For each notebook's models (01: 1-D MLP GAN, 02: DCGAN, 03: conditional GAN), built by the
notebook's own builders with its full-mode constants and its ``GAN(...)`` options, two identical
set-ups train side by side: ``GAN.fit`` (the loop the notebooks run) and ``FusedTrainer`` (one
compiled step per iteration, same models, batch, optimizers and draws). Blocks of the two
alternate (A B, B A, ...) so that both see the same machine load; the result is the median
iterations per second of each and the median of the paired ratios (gan_utils / fused; 1.0
means no overhead). A third set-up, ``plain_loop``, makes only the four Keras calls of an
iteration (no history, hooks or checks): it separates what the trainer adds from what the
``train_on_batch`` design itself costs. Where ``GAN.fit`` runs its training monitor by default, the loop is timed as
the notebooks run it (monitor on) and also with ``monitor=False``, a third interleaved variant.

Then, where the time of one gan_utils iteration goes: each call the loop makes, timed alone
(medians of interleaved calls), and a cProfile of ``GAN.fit``.
"""

from __future__ import annotations

import cProfile
import inspect
import pstats
import time

import numpy as np

from benchmarks.fused import FusedTrainer, HostDraws, _pair
from benchmarks.notebook_code import NotebookCode
from gan_utils.training import GAN

MODELS = ("mlp", "dcgan", "cgan")
#: whether GAN.fit runs a training monitor by default (then also timed with monitor=False)
HAS_MONITOR = "monitor" in inspect.signature(GAN.fit).parameters
NO_MONITOR = "gan_utils, monitor=False"
PLAIN = "plain train_on_batch loop"
TITLES = {"mlp": "1-D MLP GAN (01)", "dcgan": "DCGAN (02)", "cgan": "CGAN (03)"}


def notebook_setup(key):
    """(notebook, data, labels, batch size, GAN overrides) for one notebook in full mode."""
    nb = NotebookCode(key, quick=False)
    if key == "mlp":  # notebook 01 trains on fresh samples of its target N(TARGET_MEAN, TARGET_STD^2)
        ns = nb.ns
        data, labels = (lambda n, rng: ns["sample_gaussian"](n, rng, ns["TARGET_MEAN"], ns["TARGET_STD"])), None
    else:
        data, labels = nb.load_data()
    # instance noise (01) stays on for the whole benchmark, as in the first part of a run
    overrides = {"noise_decay_steps": 10**9} if "instance_noise" in nb.gan_kwargs_source() else {}
    return nb, data, labels, int(nb.ns["BATCH_SIZE"]), overrides


def readable_value(value):
    """A readable value for the results file: an optimizer as Adam(lr=..., beta_1=...)."""
    import keras

    if isinstance(value, keras.optimizers.Optimizer):
        config = value.get_config()
        lr = config["learning_rate"]
        lr = lr["class_name"] + str(lr["config"]) if isinstance(lr, dict) else f"{lr:g}"
        extra = f", beta_1={config['beta_1']:g}" if "beta_1" in config else ""
        return f"{type(value).__name__}(learning_rate={lr}{extra})"
    return repr(value)


def _timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def measure_model(key, repeats=5, block_seconds=3.0, calls=60, profile=True):
    """Interleaved it/s of the gan_utils loop and the fused step for one notebook's models."""
    nb, data, labels, batch, overrides = notebook_setup(key)
    trainer = GAN(*nb.build_models(), **nb.gan_kwargs(**overrides))
    fused = FusedTrainer(GAN(*nb.build_models(), **nb.gan_kwargs(**overrides)))
    runs = {
        "gan_utils": lambda n: trainer.fit(data, labels, batch_size=batch, steps=n, verbose=0),
        "fused": lambda n: fused.fit(data, labels, batch_size=batch, steps=n),
    }
    if HAS_MONITOR:  # the same loop without the training monitor the trainer runs by default
        runs[NO_MONITOR] = lambda n: trainer.fit(data, labels, batch_size=batch, steps=n, verbose=0, monitor=False)
    runs[PLAIN] = plain_loop(GAN(*nb.build_models(), **nb.gan_kwargs(**overrides)), data, labels, batch)
    compile_s = {name: _timed(run, 2) for name, run in runs.items()}  # tracing and compilation
    per_step = max(_timed(runs["gan_utils"], 3) / 3, 1e-4)
    steps = int(np.clip(round(block_seconds / per_step), 3, 20_000))
    speeds = {name: [] for name in runs}
    names = list(runs)
    for r in range(repeats):  # rotate the order: each variant runs first, middle and last equally
        for name in names[r % len(names) :] + names[: r % len(names)]:
            speeds[name].append(steps / _timed(runs[name], steps))
    ratios = [a / b for a, b in zip(speeds["gan_utils"], speeds["fused"])]
    plain_ratios = [a / b for a, b in zip(speeds[PLAIN], speeds["fused"])]
    own_ratios = [a / b for a, b in zip(speeds["gan_utils"], speeds[PLAIN])]
    result = {
        "title": TITLES[key],
        "notebook": nb.path.name,
        "batch_size": batch,
        "params_generator": int(trainer.generator.count_params()),
        "params_discriminator": int(trainer.discriminator.count_params()),
        "gan_options": {k: readable_value(v) for k, v in nb.gan_kwargs(**overrides).items()},
        "steps_per_block": steps,
        "repeats": repeats,
        "first_call_seconds": compile_s,
        "its_per_s": speeds,
        "gan_utils_its_per_s": float(np.median(speeds["gan_utils"])),
        "fused_its_per_s": float(np.median(speeds["fused"])),
        "ratio_median": float(np.median(ratios)),
        "ratio_min": float(np.min(ratios)),
        "ratio_max": float(np.max(ratios)),
        "monitor_on_by_default": HAS_MONITOR,
        "plain_its_per_s": float(np.median(speeds[PLAIN])),
        "plain_ratio_median": float(np.median(plain_ratios)),
        "gan_utils_vs_plain_median": float(np.median(own_ratios)),
        "per_call_us": per_call_costs(trainer, data, labels, batch, calls),
    }
    if HAS_MONITOR:
        result["no_monitor_its_per_s"] = float(np.median(speeds[NO_MONITOR]))
        result["no_monitor_ratio_median"] = float(np.median([a / b for a, b in zip(speeds[NO_MONITOR], speeds["fused"])]))
    result["per_call_us"]["fused step (whole iteration, for comparison)"] = 1e6 / result["fused_its_per_s"]
    result["per_call_us"]["gan_utils iteration (measured)"] = 1e6 / result["gan_utils_its_per_s"]
    if profile:
        result["profile"] = profile_fit(runs["gan_utils"], max(3, steps // 2))
    return result


def plain_loop(gan, data, labels, batch):
    """The design's floor: a loop making only the four Keras calls of one gan_utils iteration.

    Per iteration: the same host draws as ``GAN.fit`` and the fused step (``HostDraws``),
    ``G.predict_on_batch``, two ``D.train_on_batch`` (real, fake), the ``D.trainable`` toggles and
    ``combined.train_on_batch``, with preallocated float32 targets and nothing else: no history,
    hooks, monitor or checks. ``gan_utils / plain`` is what the trainer adds; ``plain / fused`` is
    what calling Keras four times costs against one compiled step. Returns ``run(steps)``.
    """
    G, D, combined, noise = gan.generator, gan.discriminator, gan.combined, gan.noise_layer
    draws = HostDraws(gan, data, labels, batch, np.random.default_rng(gan.seed))
    real_t, fake_t = gan.game.d_targets(batch, None)  # constant targets (the fused reference's too) draw nothing
    ones = gan.game.g_targets(batch)

    def run(steps):
        for _ in range(steps):
            sigma = gan.noise_std()  # the benchmark keeps the trainer's step fixed: constant
            real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen = draws.next(sigma)
            fake = G.predict_on_batch(_pair(z_d, y_fake))
            if noise_r is not None:
                real, fake = real + noise_r, fake + noise_f
            D.trainable = True
            D.train_on_batch(_pair(real, y_real), real_t)
            D.train_on_batch(_pair(fake, y_fake), fake_t)
            if noise is not None:
                noise.stddev.assign(sigma)
            D.trainable = False
            combined.train_on_batch(_pair(z_g, y_gen), ones)
            D.trainable = True

    return run


def per_call_costs(gan, data, labels, batch, calls):
    """Median microseconds of each call one gan_utils iteration makes, timed alone, interleaved.

    One iteration = host draws + G.predict_on_batch + 2 D.train_on_batch + 1 combined.train_on_batch
    + 3 sets of D.trainable (inside which Keras' train_on_batch resets the metrics, also timed
    alone here) + the trainer's bookkeeping (history, the loop itself), which is the rest.
    """
    G, D, combined = gan.generator, gan.discriminator, gan.combined
    rng = np.random.default_rng(1)
    if callable(data):
        real, y = np.asarray(data(batch, rng), np.float32), None
    else:
        real = data[:batch]
        y = labels[:batch] if gan.conditional else None
    z = gan.sample_z(batch, rng)
    real_t, _ = gan.game.d_targets(batch, None)
    ones = gan.game.g_targets(batch)

    def host_draws():
        if callable(data):
            data(batch, rng)
        else:
            data[rng.permutation(len(data))[:batch]]
        for _ in range(2):
            gan.sample_z(batch, rng)
            if gan.conditional:
                rng.integers(0, gan.num_classes, batch, dtype=np.int32)
        if gan.instance_noise:
            for _ in range(2):
                rng.normal(0.0, 0.1, real.shape).astype(np.float32)

    def toggles():
        D.trainable = True
        D.trainable = False
        D.trainable = True

    def d_step():
        D.train_on_batch(_pair(real, y), real_t, return_dict=True)

    def g_step():
        D.trainable = False
        combined.train_on_batch(_pair(z, y), ones, return_dict=True)
        D.trainable = True

    def reset_metrics():
        D.reset_metrics()
        D.reset_metrics()
        combined.reset_metrics()

    ops = {
        "host draws (NumPy RNG, indexing)": host_draws,
        "G.predict_on_batch": lambda: G.predict_on_batch(_pair(z, y)),
        "D.train_on_batch (one of two)": d_step,
        "combined.train_on_batch (with 2 toggles)": g_step,
        "D.trainable set x3": toggles,
        "reset_metrics x3 (inside train_on_batch)": reset_metrics,
    }
    times = {name: [] for name in ops}
    for fn in ops.values():  # warm (the train steps are already traced)
        fn()
    for _ in range(calls):
        for name, fn in ops.items():
            times[name].append(_timed(fn))
    costs = {name: float(np.median(t) * 1e6) for name, t in times.items()}
    toggle = costs["D.trainable set x3"] / 3
    costs["combined.train_on_batch (with 2 toggles)"] -= 2 * toggle
    costs["combined.train_on_batch"] = costs.pop("combined.train_on_batch (with 2 toggles)")
    costs["sum: draws + predict + 2 D + combined + 3 sets"] = (
        costs["host draws (NumPy RNG, indexing)"]
        + costs["G.predict_on_batch"]
        + 2 * costs["D.train_on_batch (one of two)"]
        + costs["combined.train_on_batch"]
        + costs["D.trainable set x3"]
    )
    return costs


def profile_fit(run, steps, top=12):
    """cProfile of ``steps`` iterations of ``GAN.fit``: total and the functions with most own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run(steps)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    functions = []
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in rows:
        where = filename.split("site-packages/")[-1] if "site-packages/" in filename else filename
        functions.append(
            {
                "function": f"{where}:{line}({name})" if line else name,
                "calls_per_iteration": ncalls / steps,
                "own_us_per_iteration": tottime / steps * 1e6,
                "share_of_total": tottime / total,
            }
        )
    return {"steps": steps, "total_us_per_iteration": total / steps * 1e6, "top_own_time": functions}


def run(models=MODELS, repeats=5, block_seconds=3.0, calls=60, profile=True, log=print):
    """Part 1 for each model; returns {model: result}."""
    results = {}
    for key in models:
        log(f"loop overhead: {TITLES[key]} ...")
        results[key] = measure_model(key, repeats=repeats, block_seconds=block_seconds, calls=calls, profile=profile)
        r = results[key]
        log(
            f"  gan_utils {r['gan_utils_its_per_s']:.1f} it/s, fused {r['fused_its_per_s']:.1f} it/s, "
            f"ratio {r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f})"
        )
    return results
