"""A GAN's training state in checkpoint files (``gan_utils.checkpoint_files``), checked before it is restored.

``GAN.fit(..., checkpoint_dir=..., checkpoint_every=N, resume=True)`` uses this module; call it directly
only to list or read checkpoints. It reads and writes the trainer's ``state_dict()`` (counters, random
generator, history, run), the variables of ``gan.variable_groups()`` (G, D, a variant's own models and
state, the instance-noise layer, both optimizers) as arrays ``<group>/<index>``, the data stream's and the
hooks' ``state_dict()`` (``fit/order``, ``hooks/<i>/<name>``) and, in the metadata, the options, the
variables' paths and shapes and the fit's plan and position. Nothing here sets an attribute of the GAN:
``apply_training_state`` restores through ``load_state_dict`` and ``Variable.assign``.

A run is one training, however many processes it takes: a fit that starts afresh draws a random run id,
a fit resumed from a checkpoint continues its run; every checkpoint's metadata holds its run's id.
Nothing deletes or overwrites a checkpoint of another run (or one whose run cannot be read): a fit
refuses to start where it would (``resolve_resume``, ``begin_run``).

A checkpoint also holds the run's fingerprint (``fingerprint``): the configurations of the GAN's models
(layer names left out: Keras numbers them by what the process built before), both optimizers' class and
settings (learning rate, betas, ...; taken when the run started, as a schedule or a hook may change
them later) and the training data (shape, dtype, a sha256 of a fixed subset of rows, and of the
labels). Resuming compares them with the GAN and the data of the call and names what differs;
checkpoints written before fingerprints existed resume without that check, and options saved under
their old names (``real_label``) are read under today's.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import numpy as np

from .checkpoint_files import (  # noqa: F401  (the file-level names are public here too)
    FORMAT, CheckpointError, check_writable, checkpoint_path, checkpoint_step, latest_checkpoint, list_checkpoints,
    previous_good, read, remove_stale, run_of, write)
from .checks import is_int, positive_int
from .hooks import stateful

# ----------------------------------------------------------------------------- a GAN's training state
_ADVICE = "build the same models and GAN options as the run that wrote it"


def resolve_resume(checkpoint_dir, checkpoint_every, checkpoint_keep, resume):
    """Check ``fit``'s checkpoint options; return (folder or None, checkpoint file to resume from or None)."""
    if checkpoint_every is not None:
        positive_int(checkpoint_every, "checkpoint_every")
        if checkpoint_dir is None:
            raise ValueError("checkpoint_every needs checkpoint_dir=<folder> to write the checkpoints to")
    if not is_int(checkpoint_keep) or checkpoint_keep < 2:
        raise ValueError(
            f"checkpoint_keep must be an integer >= 2 (the newest and the previous checkpoint), got {checkpoint_keep!r}"
        )
    if checkpoint_dir is not None:
        if not isinstance(checkpoint_dir, (str, os.PathLike)):
            raise TypeError(f"checkpoint_dir must be a folder path, got {type(checkpoint_dir).__name__}")
        checkpoint_dir = Path(checkpoint_dir)
        if checkpoint_dir.exists() and not checkpoint_dir.is_dir():
            raise ValueError(f"checkpoint_dir={str(checkpoint_dir)!r} exists and is not a folder")
        if checkpoint_every is None:
            raise ValueError("checkpoint_dir needs checkpoint_every=N (generator steps between checkpoints)")
    if resume is True:
        if checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir=<folder> (resume from its newest checkpoint)")
        return checkpoint_dir, latest_checkpoint(checkpoint_dir)
    if resume is False or resume is None:
        existing = latest_checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
        if existing is not None:
            raise ValueError(
                f"checkpoint_dir={str(checkpoint_dir)!r} already holds checkpoints (newest: {existing.name}): "
                "pass resume=True to continue that run, or give this fit an empty folder"
            )
        return checkpoint_dir, None
    if isinstance(resume, (str, os.PathLike)):
        if not Path(resume).is_file():
            raise CheckpointError(f"resume={str(resume)!r}: no such checkpoint file")
        existing = latest_checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
        if existing is not None and Path(resume).resolve().parent != checkpoint_dir.resolve():
            raise ValueError(
                f"resume={str(resume)!r} is not in checkpoint_dir={str(checkpoint_dir)!r}, which already holds "
                f"checkpoints (newest: {existing.name}) that a fit resumed from elsewhere could overwrite or delete: "
                "resume from a checkpoint in that folder, or give this fit an empty checkpoint_dir"
            )
        return checkpoint_dir, Path(resume)
    raise TypeError(f"resume must be True, False or a checkpoint file path, got {type(resume).__name__}")


def _check_newer(folder, state):
    """Refuse a resume from an older checkpoint when a newer one in ``folder`` (or one of the same step) is of
    another run, or of none that can be read: training on would overwrite it, and it is not this run's to delete."""
    path, meta = Path(state["path"]), state["meta"]
    run = meta.get("run")
    others = [p.name for p in list_checkpoints(folder) if checkpoint_step(p) >= meta["step"]
              and p.resolve() != path.resolve() and (run is None or run_of(p) != run)]
    if others:
        it = "it" if len(others) == 1 else "them"
        raise ValueError(
            f"checkpoint_dir={str(folder)!r} holds {', '.join(others)}, newer than the resumed {path.name} and not "
            f"of the run that wrote that{'' if run else ' (it has no run id: written by an older gan_utils)'}, so "
            f"this fit would overwrite {it}: move {it} out of the folder, resume from the newest checkpoint "
            "(resume=True), or copy the checkpoint to resume from into an empty checkpoint_dir"
        )


def begin_run(gan, folder, state, stream):
    """Check the checkpoint folder for a fit (None: no checkpoints); return the fit's run, for the trainer to keep.

    ``state``: the checked checkpoint the fit resumes (from ``read_training_state``), or None for a new run.
    Raises before anything is changed if the folder cannot be written or holds another run's newer checkpoints.
    The run (``{"run": id, "fingerprint": ...}``) is the resumed checkpoint's, or a new one; None for a fit
    without checkpoints (the GAN then no longer trains a checkpointed run).
    """
    finished = state is not None and state["meta"]["fit"]["finished"]
    if folder is not None and not finished:  # a finished fit writes nothing: a read-only folder will do
        if state is not None:
            _check_newer(folder, state)
        check_writable(folder)
    if folder is None and state is None:
        return None
    run = (state["meta"].get("run") if state is not None else None) or uuid.uuid4().hex
    return {"run": run, "fingerprint": state["fingerprint"] if state else fingerprint(gan, stream)}


# --- fingerprints: what a checkpoint must match beyond its variables' shapes
def _json(value):
    """``value`` as plain JSON values (what reading it back from a checkpoint gives); unknown objects by type."""
    return json.loads(json.dumps(value, sort_keys=True, default=lambda o: f"<{type(o).__name__}>"))


def model_fingerprint(model):
    """``model.get_config()`` as JSON values, every layer's name (and the model's) replaced by its position.

    Keras names layers by what the process built before (``dense``, ``dense_1``, ...), so the same
    architecture built twice differs only in names. None if the model has no usable config (a subclassed
    model without ``get_config``): then it is not compared.
    """
    try:
        config = model.get_config()
        flatten = getattr(model, "_flatten_layers", None)
        layers = list(flatten(include_self=True, recursive=True)) if flatten else [model, *model.layers]
    except Exception:
        return None
    names = {}
    for layer in layers:
        names.setdefault(layer.name, f"<layer {len(names)}>")

    def anonymous(value):
        if isinstance(value, dict):
            return {k: anonymous(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [anonymous(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    try:
        return _json(anonymous(config))
    except (TypeError, ValueError):
        return None


def optimizer_fingerprint(optimizer):
    """An optimizer's class and settings (``get_config`` without its name and iteration count)."""
    try:
        config = dict(optimizer.get_config())
    except Exception:
        config = {}
    for key in ("name", "iterations"):
        config.pop(key, None)
    return {"class": type(optimizer).__name__, "config": _json(config)}


def data_fingerprint(stream):
    """Shape, dtype and sha256 of a fixed subset of rows (at most 256, evenly spaced) of a fit's data array,
    and the sha256 of its labels; None for a sampler function (its plan says that much)."""
    if stream is None or stream.sampler:
        return None
    data, n = stream.data, len(stream.data)
    rows = np.unique(np.linspace(0, n - 1, min(n, 256)).round().astype(np.int64))
    found = {"shape": list(data.shape), "dtype": data.dtype.str,
             "rows": hashlib.sha256(np.ascontiguousarray(data[rows]).tobytes()).hexdigest()}
    if stream.labels is not None:
        labels = np.ascontiguousarray(stream.labels, dtype=np.int64)
        found["labels"] = hashlib.sha256(labels.tobytes()).hexdigest()
    return found


def fingerprint(gan, stream=None):
    """What a checkpoint of ``gan`` must match (see the module's docstring); ``stream``: the fit's data.

    Every model of ``gan.models()`` (G, D, and a variant's own, e.g. InfoGAN's Q as ``auxiliary``)."""
    found = {name: model_fingerprint(model) for name, model in gan.models().items()}
    return {**found, "d_optimizer": optimizer_fingerprint(gan.d_optimizer),
            "g_optimizer": optimizer_fingerprint(gan.g_optimizer), "data": data_fingerprint(stream)}


def _first_difference(saved, here, where=""):
    """(where, saved value, value here) of the first difference between two JSON values, or None.

    A key only one side has is no difference: Keras versions add settings to configs (with a default),
    and a checkpoint written on one version (Colab's) may be resumed on another.
    """
    if isinstance(saved, dict) and isinstance(here, dict):
        for key in sorted(set(saved) & set(here)):
            at = f"{where}.{key}" if where else str(key)
            found = _first_difference(saved[key], here[key], at)
            if found:
                return found
        return None
    if isinstance(saved, list) and isinstance(here, list):
        for i, (a, b) in enumerate(zip(saved, here)):
            kind = f" ({a['class_name']})" if isinstance(a, dict) and isinstance(a.get("class_name"), str) else ""
            found = _first_difference(a, b, f"{where}[{i}]{kind}")
            if found:
                return found
        if len(saved) != len(here):
            return f"{where} (its length)", len(saved), len(here)
        return None
    return None if saved == here else (where or "its value", saved, here)


def _shown(value):
    return f"{value:.6g}" if isinstance(value, float) else json.dumps(value)


def _check_fingerprint(path, saved, here):
    """CheckpointError naming the first thing in which ``here`` (this GAN and data) differs from ``saved``."""
    where = f"checkpoint {path} does not fit this GAN"
    for name in ("generator", "discriminator"):
        if saved.get(name) is not None and here[name] is not None:
            found = _first_difference(saved[name], here[name])
            if found:
                at, was, now = found
                raise CheckpointError(
                    f"{where}: the {name}'s configuration differs at {at}: {_shown(now)} here but {_shown(was)} in "
                    f"the checkpoint; {_ADVICE}"
                )
    for name, player in (("d_optimizer", "discriminator"), ("g_optimizer", "generator")):
        if saved.get(name) is not None:
            found = _first_difference(saved[name]["config"], here[name]["config"])
            if found:
                at, was, now = found
                raise CheckpointError(
                    f"{where}: the {player}'s optimizer {at} is {_shown(now)} here but {_shown(was)} in the "
                    f"checkpoint; build {name} with the checkpoint's settings (resuming would silently replace "
                    "them). To train on with other settings, restore the checkpoint with gan.restore(path), then "
                    "change them and call fit with a new checkpoint_dir"
                )


def _check_data(path, saved, here):
    """CheckpointError if the fit's data (fingerprint ``here``) is not the data the checkpoint's run trained on."""
    if saved is None or here is None:
        return
    if saved["shape"] != here["shape"] or saved["dtype"] != here["dtype"]:
        what = (f"the data here has shape {tuple(here['shape'])} and dtype {np.dtype(here['dtype'])} but shape "
                f"{tuple(saved['shape'])} and dtype {np.dtype(saved['dtype'])} in the checkpoint")
    elif saved["rows"] != here["rows"]:
        what = ("the data here has the same shape and dtype as that run's but other values "
                "(a hash of sampled rows differs)")
    elif saved.get("labels") != here.get("labels"):
        what = "the labels here differ from that run's"
    else:
        return
    raise CheckpointError(
        f"checkpoint {path} was written by a run on other data: {what}; call fit with the same data and labels as "
        "the interrupted run, or give a new fit its own checkpoint_dir"
    )


def save_training_state(gan, folder, keep, plan, stream, hooks, finished):
    """Write ``gan``'s whole training state as the checkpoint of its current step; keep the newest ``keep``.

    ``plan``: the fit's arguments (start, total, batch_size, n_data, sampler); ``stream``: its data stream
    (shuffled order and position); ``hooks``: those with a state are saved in order. The run's id and
    fingerprint come from the trainer's state (``gan.state_dict()["run"]``, from ``begin_run``); only that
    run's checkpoints are removed.
    """
    import keras  # here, so that reading and writing checkpoint files needs NumPy only

    state = gan.state_dict()
    run = state["run"]
    if run is None:
        raise ValueError("this GAN trains no checkpointed run: checkpoints are written by fit(checkpoint_dir=...)")
    gan.build_optimizers()
    arrays, names = {}, {}
    for group, variables in gan.variable_groups().items():
        names[group] = [[v.path, list(v.shape)] for v in variables]
        for i, v in enumerate(variables):
            arrays[f"{group}/{i:04d}"] = np.array(keras.ops.convert_to_numpy(v))
    for key, values in state["history"].items():
        arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
    position = stream.state_dict()
    if position["order"] is not None:
        arrays["fit/order"] = position["order"]
    hook_meta = []
    for i, h in enumerate(stateful(hooks)):
        entry = {"type": type(h.state).__name__, "json": {}, "arrays": []}
        for key, value in h.state.state_dict().items():
            if isinstance(value, np.ndarray):
                arrays[f"hooks/{i}/{key}"] = value
                entry["arrays"].append(key)
            else:
                entry["json"][key] = value
        hook_meta.append(entry)
    meta = {
        "keras": keras.__version__, "backend": keras.backend.backend(), "config": gan.config(),
        "optimizers": {"d_optimizer": type(gan.d_optimizer).__name__, "g_optimizer": type(gan.g_optimizer).__name__},
        "variables": names, "step": state["step"], "epoch": state["epoch"], "train_seconds": state["train_seconds"],
        "fit_steps": state["fit_steps"], "rng": state["rng"],
        "fit": {**plan, "cursor": position["cursor"], "finished": bool(finished)}, "hooks": hook_meta,
        "run": run["run"], "fingerprint": run["fingerprint"],
    }
    path = write(checkpoint_path(folder, state["step"]), arrays, meta)
    remove_stale(folder, state["step"], keep, run["run"])
    return path


def read_training_state(gan, path, plan=None, hooks=None, stream=None):
    """Read checkpoint ``path`` and check it against ``gan`` (and the fit's ``plan``, ``hooks`` and data
    ``stream``); change nothing but creating the optimizers' slots.

    Returns ``{"path", "arrays", "meta", "assign": [(variable, value), ...], "fingerprint", "note"}`` for
    ``apply_training_state`` and ``begin_run`` (``note``: what could not be checked, or None).
    Raises ``CheckpointError`` naming what does not match.

    A GAN that was itself training the checkpoint's run when that fit stopped early (an exception, Ctrl-C)
    is past the checkpoint: for it the fit's ``plan`` is compared as if called at the run's start, and
    its models and optimizers by the fingerprint it recorded when the run began (a hook may have changed
    the learning rate since).
    """
    arrays, meta = read(path)
    where = f"checkpoint {path} does not fit this GAN"
    config = gan.config()
    for key, value in _renamed_config(meta["config"]).items():
        if config.get(key) != value:
            raise CheckpointError(f"{where}: {key} is {value!r} in the checkpoint but {config.get(key)!r} here; {_ADVICE}")
    for name in ("d_optimizer", "g_optimizer"):
        here = type(getattr(gan, name)).__name__
        if meta["optimizers"][name] != here:
            raise CheckpointError(f"{where}: {name} is {meta['optimizers'][name]} in the checkpoint but {here} here; {_ADVICE}")
    groups = gan.variable_groups()
    model_groups = [g for g in groups if not g.endswith("_optimizer")]
    assign = _match_variables(path, meta, arrays, groups, model_groups)
    here_state = gan.state_dict()
    current = here_state["run"]
    same_run = current is not None and meta.get("run") is not None and current["run"] == meta["run"]
    ours = {**(current["fingerprint"] if same_run else fingerprint(gan)), "data": data_fingerprint(stream)}
    theirs, note = meta.get("fingerprint"), None
    if theirs is None:
        note = "written by an older gan_utils, it has no fingerprint: its data, models and optimizers were not checked"
    else:
        _check_fingerprint(path, theirs, ours)
    if plan is not None and same_run and not meta["fit"]["finished"]:
        plan = {**plan, "start": meta["fit"]["start"]}  # this GAN trained on past the checkpoint, in that fit
    if plan is not None and any(meta["fit"][k] != plan[k] for k in plan):
        raise CheckpointError(
            f"checkpoint {path} was written by {_fit_call_text(meta['fit'])}, but this call is {_fit_call_text(plan)}: "
            "call fit with the same data and arguments as the interrupted run, or give a new fit its own checkpoint_dir"
        )
    if plan is not None and theirs is not None:
        _check_data(path, theirs.get("data"), ours["data"])
    if hooks is not None:
        here = [type(h.state).__name__ for h in stateful(hooks)]
        saved = [entry["type"] for entry in meta["hooks"]]
        if here != saved:
            raise CheckpointError(
                f"checkpoint {path} holds the state of hooks {saved} but this fit has {here}: pass the same "
                "hooks (and monitor setting) as the interrupted run"
            )
    history_keys = sorted(k[len("history/"):] for k in arrays if k.startswith("history/"))
    if history_keys != sorted(here_state["history"]):
        raise CheckpointError(f"checkpoint {path} has history keys {history_keys}, expected "
                              f"{sorted(here_state['history'])}")
    if meta["rng"].get("bit_generator") != here_state["rng"]["bit_generator"]:
        raise CheckpointError(f"checkpoint {path} holds a {meta['rng'].get('bit_generator')} state, this GAN uses "
                              f"{here_state['rng']['bit_generator']}")
    gan.build_optimizers()  # only once everything else matches: creates the slots, changes no weight
    assign += _match_variables(path, meta, arrays, gan.variable_groups(), ["d_optimizer", "g_optimizer"])
    return {"path": path, "arrays": arrays, "meta": meta, "assign": assign, "fingerprint": ours, "note": note}


# config keys renamed since checkpoints were first written: old name -> new name
_RENAMED = {"real_label": "real_target", "fake_label": "fake_target"}


def _renamed_config(config):
    """A checkpoint's options under today's names (checkpoints written before 2026-12 say ``real_label``)."""
    return {_RENAMED.get(key, key): value for key, value in config.items()}


def _match_variables(path, meta, arrays, here, groups):
    """[(variable, saved value)] for the named groups; CheckpointError at the first mismatch."""
    where = f"checkpoint {path} does not fit this GAN"
    assign = []
    for group in groups:
        variables, saved = here[group], meta["variables"].get(group)
        if saved is None:
            raise CheckpointError(f"{where}: it holds no {group} variables; {_ADVICE}")
        if len(saved) != len(variables):
            raise CheckpointError(
                f"{where}: the {group} has {len(variables)} variables here but {len(saved)} in the checkpoint; {_ADVICE}"
            )
        for i, (v, (saved_path, saved_shape)) in enumerate(zip(variables, saved)):
            value = arrays.get(f"{group}/{i:04d}")
            if value is None or tuple(saved_shape) != tuple(v.shape) or value.shape != tuple(v.shape):
                raise CheckpointError(
                    f"{where}: {group} variable {i} ({saved_path}) has shape {tuple(saved_shape)} in the "
                    f"checkpoint but {v.path} has shape {tuple(v.shape)} here; {_ADVICE}"
                )
            assign.append((v, value))
    return assign


def _fit_call_text(plan):
    """A fit call as the user wrote it, from its plan: ``fit(100 steps on 6000 samples, batch_size=64) ...``."""
    length = f"steps={plan['total']}" if plan["sampler"] else f"{plan['total']} steps on {plan['n_data']} samples"
    return f"fit({length}, batch_size={plan['batch_size']}) starting at step {plan['start']}"


def resume_fit(gan, folder, path, plan, hooks, stream, verbose):
    """Start a fit's checkpointed run: check checkpoint ``path`` (None: a new run) and ``folder`` (None: no
    checkpoints) for it, then restore the checkpoint; ``(run, finished)``: the run for the trainer to keep
    (``begin_run``) and whether the fit that wrote the checkpoint had finished. ``plan["start"]`` becomes the
    resumed fit's start. Every check comes first: if one fails, nothing is changed."""
    state = None if path is None else read_training_state(gan, path, plan=plan, hooks=hooks, stream=stream)
    run = begin_run(gan, folder, state, stream)  # the folder is writable, no other run's checkpoint at stake
    if state is None:
        return run, False
    apply_training_state(gan, state, hooks, stream)
    plan["start"] = state["meta"]["fit"]["start"]  # differs after an interrupted fit of this same GAN
    finished = state["meta"]["fit"]["finished"]
    if verbose:
        print(f"resumed from {path} at step {state['meta']['step']}" + (" (that fit had finished)" if finished else "")
              + (f"; {state['note']}" if state["note"] else ""))
    return run, finished


def apply_training_state(gan, state, hooks=(), stream=None):
    """Assign a checked state (from ``read_training_state``) to ``gan``, the hooks' states and the data stream."""
    arrays, meta = state["arrays"], state["meta"]
    for variable, value in state["assign"]:
        variable.assign(value.astype(variable.dtype))
    history = {k[len("history/"):]: arrays[k].tolist() for k in arrays if k.startswith("history/")}
    gan.load_state_dict({"step": meta["step"], "epoch": meta["epoch"], "train_seconds": meta["train_seconds"],
                         "fit_steps": meta["fit_steps"], "rng": meta["rng"], "history": history})
    for i, h in enumerate(stateful(hooks)):
        entry = meta["hooks"][i]
        h.state.load_state_dict({**entry["json"], **{k: arrays[f"hooks/{i}/{k}"] for k in entry["arrays"]}})
    if stream is not None:
        stream.load_state_dict({"order": arrays.get("fit/order"), "cursor": meta["fit"]["cursor"]})
