"""The notebooks' own models and settings, read from the notebooks at run time (never copied).

The benchmark has to measure what the notebooks train while their configuration is being tuned, so
it reads each notebook with nbformat and executes, in one fresh namespace per notebook, cells found by
their Jupyter cell tags (``REQUIRED_TAGS``; ``tests/test_bench.py`` fails, naming the notebook and the
tag, if one is lost):

1. every top-level import statement of the notebook;
2. the cell tagged ``config`` (the hyperparameters, ``BATCH_SIZE`` among them), whole, with ``QUICK`` forced;
3. from the cells tagged ``models``, only the ``def build_generator`` / ``def build_discriminator``
   statements;
4. on request (``load_data``), the cell tagged ``data``: its imports and assignments (``x_gan`` and,
   for a conditional GAN, ``y_gan``), without its prints and plots;
5. on request (``load_training_defs``), the function definitions of the cell tagged ``train`` and
   those of its assignments that cannot train (``decay_learning_rates``, ``fixed_z``,
   ``steps_per_epoch``), never its training.

The keyword arguments of the notebook's ``GAN(...)`` call and of its ``gan.fit(...)`` call are read
from the training cell's syntax tree and evaluated in that namespace (inside a function, such as
notebook 01's ``train_gan``, its parameters take their default values; ``seed`` the notebook's). A
``WeightAverage(...)`` the cell builds for its hooks is rebuilt around the benchmark's generator.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
#: benchmark name -> notebook file (the first three also give their models to the loop and quality parts;
#: "tricks" is only timed, in the notebooks part)
NOTEBOOKS = {
    "mlp": "01_vanilla_gan_1d_gaussian.ipynb",
    "dcgan": "02_dcgan_mnist.ipynb",
    "cgan": "03_cgan_mnist_digits.ipynb",
    "tricks": "04_label_smoothing_and_tricks.ipynb",
}
BUILDERS = ("build_generator", "build_discriminator")
#: the cell tags each notebook must carry, and what the benchmark reads from the tagged cells
REQUIRED_TAGS = {
    "mlp": ("config", "models", "train"),
    "dcgan": ("config", "data", "models", "train"),
    "cgan": ("config", "data", "models", "train"),
    "tricks": ("config", "models"),
}
TAG_CONTENTS = {
    "config": "the hyperparameters (BATCH_SIZE and the quick/full constants)",
    "data": "the real training data (x_gan, and y_gan for a conditional GAN)",
    "models": "def build_generator / def build_discriminator",
    "train": "the GAN(...) call and its gan.fit(...) call",
}


def tagged_cells(nb, tag, path):
    """The code cells of notebook ``nb`` carrying the Jupyter cell tag ``tag``; LookupError if there is none."""
    cells = [c for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]
    if not cells:
        raise LookupError(
            f"{Path(path).name}: no code cell is tagged {tag!r} ({TAG_CONTENTS.get(tag, tag)}); the benchmark "
            "reads that cell. Add the tag to it (JupyterLab: the cell's property inspector, Common Tools > Cell Tags)"
        )
    return cells


@contextlib.contextmanager
def notebook_environment(quick):
    """The environment a notebook reads its mode from: GAN_QUICK set, GAN_TRAIN=1, stdout silenced."""
    saved = {k: os.environ.get(k) for k in ("GAN_QUICK", "GAN_TRAIN")}
    os.environ["GAN_QUICK"] = "1" if quick else "0"
    os.environ["GAN_TRAIN"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _assigned_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _call_name(call):
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


class NotebookCode:
    """One notebook's configuration namespace (``ns``), its model builders and its GAN settings.

    Args:
        key: ``"mlp"``, ``"dcgan"`` or ``"cgan"`` (see ``NOTEBOOKS``).
        quick: the mode whose constants are used (``QUICK`` in the notebook).
    """

    def __init__(self, key, quick):
        self.key, self.quick = key, bool(quick)
        self.path = NOTEBOOK_DIR / NOTEBOOKS[key]
        self.notebook = nbformat.read(self.path, as_version=4)
        self.cells = [(c.source, ast.parse(c.source)) for c in self.notebook.cells if c.cell_type == "code"]
        self.ns = {"__name__": f"notebook_{key}"}
        with notebook_environment(self.quick):
            self._exec(self._imports())
            self.ns["QUICK"] = self.quick
            self._exec(self._tagged("config"))  # the configuration, whole
            self.ns["QUICK"] = self.quick
            for name in BUILDERS:
                self._exec(self._definition(name))
        self.training_cell = self._training_cell()

    # -- finding cells and statements
    def _exec(self, tree):
        exec(compile(tree, str(self.path), "exec"), self.ns)

    def _imports(self):
        """Every top-level import statement of the notebook (not those under an ``if``)."""
        body = [s for _, tree in self.cells for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        return ast.Module(body=body, type_ignores=[])

    def _tagged(self, tag):
        """The syntax tree of the one code cell tagged ``tag``."""
        cells = tagged_cells(self.notebook, tag, self.path)
        if len(cells) != 1:
            raise LookupError(f"{self.path.name}: {len(cells)} code cells are tagged {tag!r}; tag exactly one")
        return ast.parse(cells[0].source)

    def _definition(self, name):
        for cell in tagged_cells(self.notebook, "models", self.path):
            for stmt in ast.parse(cell.source).body:
                if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                    return ast.Module(body=[stmt], type_ignores=[])
        raise LookupError(f"{self.path.name}: no cell tagged 'models' defines {name}()")

    def _training_cell(self):
        tree = self._tagged("train")
        calls = {_call_name(n) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        if not {"GAN", "fit"} <= calls:
            raise LookupError(f"{self.path.name}: the cell tagged 'train' must build a GAN(...) and call .fit(...)")
        return tree

    def _find_call(self, name):
        """The first call ``name(...)`` in the training cell and the function holding it (or None)."""
        for stmt in self.training_cell.body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and _call_name(node) == name:
                    return node, stmt if isinstance(stmt, ast.FunctionDef) else None
        raise LookupError(f"{self.path.name}: the training cell has no {name}(...) call")

    # -- what the benchmark uses
    @property
    def seed(self):
        return int(self.ns["SEED"] if "SEED" in self.ns else self.ns["SEEDS"][0])

    @property
    def conditional(self):
        return "num_classes" in self.gan_kwargs_source()

    def build_models(self, seed=None):
        """Fresh (generator, discriminator) from the notebook's builders, after set_random_seed."""
        import keras

        keras.utils.set_random_seed(self.seed if seed is None else seed)
        with notebook_environment(self.quick):
            return self.ns["build_generator"](), self.ns["build_discriminator"]()

    def _evaluate(self, call, function, positional=True):
        scope = dict(self.ns)
        if function is not None:  # parameters of the enclosing function: their defaults
            args = function.args
            for arg, default in zip(args.args[len(args.args) - len(args.defaults) :], args.defaults):
                scope[arg.arg] = eval(compile(ast.Expression(default), str(self.path), "eval"), scope)
            scope.setdefault("seed", self.seed)
        with notebook_environment(self.quick):
            args = [eval(compile(ast.Expression(a), str(self.path), "eval"), scope) for a in call.args] if positional else []
            keywords = {
                kw.arg: eval(compile(ast.Expression(kw.value), str(self.path), "eval"), scope)
                for kw in call.keywords
            }
        return args, keywords

    def gan_kwargs_source(self):
        """The keyword names of the notebook's ``GAN(...)`` call."""
        call, _ = self._find_call("GAN")
        return [kw.arg for kw in call.keywords]

    def gan_kwargs(self, **overrides):
        """The notebook's ``GAN(...)`` keyword arguments, evaluated now (fresh optimizers each call)."""
        _, keywords = self._evaluate(*self._find_call("GAN"), positional=False)  # not its models
        keywords.update(overrides)
        return keywords

    def load_data(self):
        """Run the data cell's imports and assignments (``x_gan`` and, for 03, ``y_gan``)."""
        tree = self._tagged("data")
        if "x_gan" not in _assigned_names(tree):
            raise LookupError(f"{self.path.name}: the cell tagged 'data' must assign x_gan (the real training images)")
        kept = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom, ast.Assign))]
        with notebook_environment(self.quick):
            self._exec(ast.Module(body=kept, type_ignores=[]))
        return self.ns["x_gan"], self.ns.get("y_gan")

    def load_training_defs(self):
        """Run the training cell's function definitions and its assignments that cannot train.

        An assignment is left out when its value calls ``GAN``, ``fit`` or a function the cell itself
        defines (notebook 01's ``train_gan(...)``, say).
        """
        defined = {s.name for s in self.training_cell.body if isinstance(s, ast.FunctionDef)}
        blocked = defined | {"GAN", "fit"}

        def safe(value):
            return not any(isinstance(n, ast.Call) and _call_name(n) in blocked for n in ast.walk(value))

        kept = [
            s
            for s in self.training_cell.body
            if isinstance(s, ast.FunctionDef) or (isinstance(s, ast.Assign) and safe(s.value))
        ]
        with notebook_environment(self.quick):
            self._exec(ast.Module(body=kept, type_ignores=[]))

    def fit_arguments(self, generator=None):
        """The notebook's ``gan.fit(...)`` arguments: (positional, keywords), evaluated now.

        With ``generator`` (the benchmark's G), the training cell's ``name = WeightAverage(...)``
        assignments are evaluated first, with the notebook's name ``generator`` bound to it, so a
        hook such as ``average.hook(...)`` averages the benchmark's G as the notebook's averages its own.
        """
        if generator is not None:
            for node in ast.walk(self.training_cell):
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                        and _call_name(node.value) == "WeightAverage"):
                    scope = {**self.ns, "generator": generator}
                    value = eval(compile(ast.Expression(node.value), str(self.path), "eval"), scope)
                    for target in node.targets:
                        self.ns[target.id] = value
        return self._evaluate(*self._find_call("fit"))
