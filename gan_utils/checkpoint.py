"""Checkpoint files: written atomically, checked by a checksum, loaded without running any code.

``GAN.fit(..., checkpoint_dir=..., checkpoint_every=N, resume=True)`` uses this module; call it
directly only to list or read checkpoints. A checkpoint is one file ``ckpt-<step>.npz`` (``<step>``:
the generator step, 8 digits) in the checkpoint folder:

* NumPy's ``.npz`` (a zip of ``.npy`` arrays), read with ``np.load(allow_pickle=False)``: plain
  numeric and string arrays only, nothing that could execute code when loaded;
* the array ``__meta__``: a JSON string (counters, random-generator state, options, names);
* the array ``__sha256__``: the sha256 of every other array (name, dtype, shape, bytes) and of the
  metadata. A file whose checksum does not match, or that is truncated, raises ``CheckpointError``.

Writing goes to a temporary file in the same folder, which is flushed, ``fsync``-ed and renamed
over the final name with ``os.replace`` (atomic on POSIX and Windows), so a crash leaves either the
old file or the new one, never half of one. The folder keeps the newest ``keep`` checkpoints of the run.

A run is one training, however many processes it takes: a fit that starts afresh draws a random run id,
a fit resumed from a checkpoint continues its run; every checkpoint's metadata holds its run's id.
Nothing here deletes or overwrites a checkpoint of another run (or one whose run cannot be read): a
fit refuses to start where it would (``resolve_resume``, ``begin_run``), and ``remove_stale`` only
deletes checkpoints that carry the current run's id. Before training, the folder is created and a
probe file is written and removed (``check_writable``), so a read-only or full disk is reported at
once and not at the first checkpoint.

A checkpoint also holds the run's fingerprint (``fingerprint``): the configurations of G and D (layer
names left out: Keras numbers them by what the process built before), both optimizers' class and
settings (learning rate, betas, ...; taken when the run started, as a schedule or a hook may change
them later) and the training data (shape, dtype, a sha256 of a fixed subset of rows, and of the
labels). Resuming compares them with the GAN and the data of the call and names what differs;
checkpoints written before fingerprints existed resume without that check.

What a GAN's checkpoint holds, and how it is checked against the GAN before anything is restored, is
here too (``save_training_state``, ``read_training_state``, ``apply_training_state``): the arrays
``<group>/<index>`` for every variable of G, D, the instance-noise layer and both optimizers,
``history/<key>``, ``fit/order`` (the epoch's shuffled order) and ``hooks/<i>/<name>``; the metadata
holds the options, the variables' paths and shapes, counters, the random generator's state, the fit's
plan and position, and the hooks' JSON state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from pathlib import Path

import numpy as np

from .checks import is_int, positive_int
from .files import atomic_write
from .hooks import stateful

FORMAT = "gan_utils-checkpoint-1"
_NAME = re.compile(r"^ckpt-(\d+)\.npz$")
# temporary files of interrupted writes: atomic_write's ".ckpt-<step>.tmp-<pid>.npz" and, from older
# versions, ".ckpt-<step>.npz.tmp-<pid>"
_TEMP = re.compile(r"^\.ckpt-\d+(?:\.tmp-(\d+)\.npz|\.npz\.tmp-(\d+))$")


class CheckpointError(ValueError):
    """A checkpoint cannot be used: truncated, corrupt, or written for other models or options."""


def checkpoint_path(folder, step) -> Path:
    """The file name of the checkpoint at generator step ``step``: ``folder/ckpt-00001234.npz``."""
    return Path(folder) / f"ckpt-{int(step):08d}.npz"


def checkpoint_step(path) -> int:
    """The generator step in a checkpoint's file name."""
    match = _NAME.match(Path(path).name)
    if not match:
        raise CheckpointError(f"{path} is not named like a checkpoint (ckpt-<step>.npz)")
    return int(match.group(1))


def list_checkpoints(folder) -> list:
    """The checkpoint files in ``folder``, oldest step first (temporary files are left out)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.match(p.name) and p.is_file()]
    return sorted(found, key=checkpoint_step)


def latest_checkpoint(folder):
    """The newest checkpoint file in ``folder`` (by step), or None if there is none."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def _digest(arrays, meta_json):
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    h.update(meta_json.encode())
    return h.hexdigest()


def write(path, arrays, meta):
    """Write ``arrays`` (name -> numeric array) and ``meta`` (JSON-able dict) to ``path`` atomically.

    Returns the path. The temporary file (``gan_utils.files.atomic_write``) is removed if anything fails.
    """
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    for name, a in arrays.items():
        if name.startswith("__") or a.dtype.hasobject:
            raise ValueError(f"checkpoint array {name!r}: reserved name or object dtype ({a.dtype})")
    meta_json = json.dumps({"format": FORMAT, **meta}, sort_keys=True)
    payload = {**arrays, "__meta__": np.array(meta_json), "__sha256__": np.array(_digest(arrays, meta_json))}

    def save(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **payload)

    return atomic_write(path, save, durable=True)


def _read_unchecked(path):
    """(arrays, meta) of a checkpoint, or raise CheckpointError saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except Exception as e:  # zipfile, zlib, EOF and format errors: the file is damaged
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt: it cannot be read ({type(e).__name__}: {e})"
        ) from None
    if "__meta__" not in arrays or "__sha256__" not in arrays:
        raise CheckpointError(f"checkpoint {path} is not a gan_utils checkpoint (no __meta__/__sha256__ entry)")
    meta_json, stored = str(arrays.pop("__meta__")), str(arrays.pop("__sha256__"))
    computed = _digest(arrays, meta_json)
    if computed != stored:
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its sha256 checksum does not match its contents "
            f"(stored {stored[:12]}..., computed {computed[:12]}...)"
        )
    meta = json.loads(meta_json)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {meta.get('format')!r}; this gan_utils reads {FORMAT!r}")
    return arrays, meta


def previous_good(path):
    """The newest intact checkpoint in ``path``'s folder older than ``path``, or None."""
    path = Path(path)
    try:
        step = checkpoint_step(path)
    except CheckpointError:
        step = None
    for other in reversed(list_checkpoints(path.parent)):
        if other.name == path.name or (step is not None and checkpoint_step(other) >= step):
            continue
        try:
            _read_unchecked(other)
        except CheckpointError:
            continue
        return other
    return None


def read(path):
    """``(arrays, meta)`` of the checkpoint at ``path``, after checking it is whole and intact.

    Raises ``CheckpointError`` naming the file and what is wrong, and the newest older checkpoint in
    the same folder that is still intact, with how to resume from it.
    """
    try:
        return _read_unchecked(path)
    except CheckpointError as e:
        if not Path(path).is_file():
            raise
        good = previous_good(path)
        if good is None:
            hint = f"No earlier intact checkpoint is left in {Path(path).parent}: start training again."
        else:
            hint = (
                f"The previous checkpoint {good} is intact and still usable: move {path} out of the folder "
                f"(or delete it) and resume with gan.fit(..., resume=True), or load it with gan.restore('{good}')."
            )
        raise CheckpointError(f"{e}. {hint}") from None


def run_of(path):
    """The run id in a checkpoint's metadata, or None (written before run ids, unreadable, or not a checkpoint).

    Reads the metadata only, without the checksum: enough to tell whose file it is, not to use it.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            run = json.loads(str(f["__meta__"])).get("run")
    except Exception:  # damaged, truncated or not an npz: nobody's that we can tell
        return None
    return run if isinstance(run, str) else None


def remove_stale(folder, current_step, keep, run):
    """Delete run ``run``'s checkpoints newer than ``current_step`` (its abandoned continuation, after a
    resume from an older checkpoint), then all but its newest ``keep``.

    Only checkpoints whose metadata carries the run id ``run`` are ever deleted: those of another run, or
    whose run cannot be read, stay. Also removes temporary files left by writes that were interrupted.
    """
    folder = Path(folder)
    mine = [p for p in list_checkpoints(folder) if run is not None and run_of(p) == run]
    newer = [p for p in mine if checkpoint_step(p) > current_step]
    rest = [p for p in mine if checkpoint_step(p) <= current_step]
    for p in newer + rest[:-keep]:
        p.unlink(missing_ok=True)
    for p in folder.iterdir():
        match = _TEMP.match(p.name)
        if match and str(os.getpid()) not in match.groups():
            p.unlink(missing_ok=True)


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


def _write_probe(path):
    """Write and sync a small file (the probe of ``check_writable``)."""
    with open(path, "wb") as f:
        f.write(b"\0" * 4096)
        f.flush()
        os.fsync(f.fileno())


def check_writable(folder):
    """Create ``folder`` if needed, then write and remove a small probe file in it.

    Raises OSError (PermissionError for a read-only folder) naming ``checkpoint_dir`` and the fix, before
    anything is trained; a folder this call created is removed again then.
    """
    folder = Path(folder)
    created = not folder.exists()
    probe = folder / f".ckpt-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_probe(probe)
        probe.unlink()
    except OSError as e:
        try:
            probe.unlink(missing_ok=True)
            if created:
                folder.rmdir()
        except OSError:
            pass
        reason = e.strerror or str(e) or type(e).__name__
        message = (f"checkpoint_dir={str(folder)!r} cannot be written ({reason}), so no checkpoint could be saved: "
                   "make the folder writable or free space on its disk, or pass another checkpoint_dir")
        raise (OSError(e.errno, message) if e.errno else OSError(message)) from e


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
    """Check the checkpoint folder for a fit (None: no checkpoints), then record the fit's run on ``gan``.

    ``state``: the checked checkpoint the fit resumes (from ``read_training_state``), or None for a new run.
    Raises before anything is changed if the folder cannot be written or holds another run's newer checkpoints.
    The run (``gan._checkpoint_run``: id and fingerprint) is the resumed checkpoint's, or a new one.
    """
    finished = state is not None and state["meta"]["fit"]["finished"]
    if folder is not None and not finished:  # a finished fit writes nothing: a read-only folder will do
        if state is not None:
            _check_newer(folder, state)
        check_writable(folder)
    if folder is None and state is None:
        gan._checkpoint_run = None  # a fit without checkpoints: the GAN no longer trains a checkpointed run
        return
    run = (state["meta"].get("run") if state is not None else None) or uuid.uuid4().hex
    gan._checkpoint_run = {"run": run, "fingerprint": state["fingerprint"] if state else fingerprint(gan, stream)}


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
    """What a checkpoint of ``gan`` must match (see the module's docstring); ``stream``: the fit's data."""
    found = {"generator": model_fingerprint(gan.generator), "discriminator": model_fingerprint(gan.discriminator),
             "d_optimizer": optimizer_fingerprint(gan.d_optimizer),
             "g_optimizer": optimizer_fingerprint(gan.g_optimizer), "data": data_fingerprint(stream)}
    if getattr(gan, "auxiliary", None) is not None:  # only then: older checkpoints have no such key
        found["auxiliary"] = model_fingerprint(gan.auxiliary)
    return found


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
    fingerprint come from ``gan._checkpoint_run`` (``begin_run``); only that run's checkpoints are removed.
    """
    import keras  # here, so that reading and writing checkpoint files needs NumPy only

    if getattr(gan, "_checkpoint_run", None) is None:  # called outside fit: a run of its own
        gan._checkpoint_run = {"run": uuid.uuid4().hex, "fingerprint": fingerprint(gan, stream)}
    run = gan._checkpoint_run
    gan.build_optimizers()
    arrays, names = {}, {}
    for group, variables in gan.variable_groups().items():
        names[group] = [[v.path, list(v.shape)] for v in variables]
        for i, v in enumerate(variables):
            arrays[f"{group}/{i:04d}"] = np.array(keras.ops.convert_to_numpy(v))
    for key, values in gan.history.items():
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
        "variables": names, "step": gan.step, "epoch": gan.epoch, "train_seconds": gan.train_seconds,
        "fit_steps": gan.fit_steps, "rng": gan.rng.bit_generator.state,
        "fit": {**plan, "cursor": position["cursor"], "finished": bool(finished)}, "hooks": hook_meta,
        "run": run["run"], "fingerprint": run["fingerprint"],
    }
    path = write(checkpoint_path(folder, gan.step), arrays, meta)
    remove_stale(folder, gan.step, keep, run["run"])
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
    for key, value in meta["config"].items():
        if config.get(key) != value:
            raise CheckpointError(f"{where}: {key} is {value!r} in the checkpoint but {config.get(key)!r} here; {_ADVICE}")
    for name in ("d_optimizer", "g_optimizer"):
        here = type(getattr(gan, name)).__name__
        if meta["optimizers"][name] != here:
            raise CheckpointError(f"{where}: {name} is {meta['optimizers'][name]} in the checkpoint but {here} here; {_ADVICE}")
    groups = gan.variable_groups()
    model_groups = [g for g in groups if not g.endswith("_optimizer")]
    assign = _match_variables(path, meta, arrays, groups, model_groups)
    current = getattr(gan, "_checkpoint_run", None)
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
    if history_keys != sorted(gan.history):
        raise CheckpointError(f"checkpoint {path} has history keys {history_keys}, expected {sorted(gan.history)}")
    if meta["rng"].get("bit_generator") != type(gan.rng.bit_generator).__name__:
        raise CheckpointError(f"checkpoint {path} holds a {meta['rng'].get('bit_generator')} state, this GAN uses "
                              f"{type(gan.rng.bit_generator).__name__}")
    gan.build_optimizers()  # only once everything else matches: creates the slots, changes no weight
    assign += _match_variables(path, meta, arrays, gan.variable_groups(), ["d_optimizer", "g_optimizer"])
    return {"path": path, "arrays": arrays, "meta": meta, "assign": assign, "fingerprint": ours, "note": note}


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


def apply_training_state(gan, state, hooks=(), stream=None):
    """Assign a checked state (from ``read_training_state``) to ``gan``, the hooks' states and the data stream."""
    arrays, meta = state["arrays"], state["meta"]
    for variable, value in state["assign"]:
        variable.assign(value.astype(variable.dtype))
    gan.step, gan.epoch = int(meta["step"]), int(meta["epoch"])
    gan.train_seconds, gan.fit_steps = float(meta["train_seconds"]), meta["fit_steps"]
    gan.rng.bit_generator.state = meta["rng"]
    gan.history = {k: arrays[f"history/{k}"].tolist() for k in gan.history}
    gan.stop_training = False
    for i, h in enumerate(stateful(hooks)):
        entry = meta["hooks"][i]
        h.state.load_state_dict({**entry["json"], **{k: arrays[f"hooks/{i}/{k}"] for k in entry["arrays"]}})
    if stream is not None:
        stream.load_state_dict({"order": arrays.get("fit/order"), "cursor": meta["fit"]["cursor"]})
