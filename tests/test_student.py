"""Student copies (scripts/make_student.py): valid, free of solutions, and every exercise is honest.

Each exercise is run in isolation, after the notebook's cells that come before its first exercise (imports and
settings, in quick mode): the solution passes its self-check, the student's stub raises NotImplementedError,
and typical wrong answers fail the self-check with an AssertionError (or, on Keras < 3.15, are refused when
the model is built).
"""

import contextlib
import importlib.util
import io
import os
import re
import sys
import warnings
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LAB = [p for p in NOTEBOOKS if p.name[:2] in ("01", "02", "03", "04")]  # the notebooks with the course's exercises
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "scripts" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
sys.modules["make_student"] = make_student  # dataclasses look their module up there
_spec.loader.exec_module(make_student)

# Notebook 02's discriminator, in pieces for its wrong answers.
_D_CONVS = ('h = layers.Conv2D(D_FILTERS, KERNEL, strides=2, padding="same")(image)\nh = layers.LeakyReLU(0.2)(h)\n'
            "h = layers.Dropout(D_DROPOUT)(h)\n"
            'h = layers.Conv2D(2 * D_FILTERS, KERNEL, strides=2, padding="same")(h)\nh = layers.LeakyReLU(0.2)(h)\n'
            "h = layers.Dropout(D_DROPOUT)(h)\n")
_D_HEAD = ('h = layers.Flatten()(h)\nh = layers.Dense(D_HIDDEN)(h)\nh = layers.LeakyReLU(0.2)(h)\n'
           'p_real = layers.Dense(1, activation="sigmoid")(h)')

# Notebook 01's hand-written iteration, for its wrong answers.
_ITERATION = ("z = rng.standard_normal((n, LATENT_DIM), dtype=np.float32)\nfake = G.predict_on_batch(z)\n"
              "D.trainable = True\nd_loss_real = D.train_on_batch(real, real_targets)\n"
              "d_loss_fake = D.train_on_batch(fake, fake_targets)\nD.trainable = False\n"
              "g_loss = combined.train_on_batch(rng.standard_normal((n, LATENT_DIM), dtype=np.float32), g_targets)")

# Wrong answers, one replacement per solution region of the exercise cell (code without indentation).
WRONG = {
    "ex1_discriminator_targets": [
        ["real_targets = np.full((n, 1), real_target, dtype=np.float32)\n"
         "fake_targets = np.full((n, 1), 1 - real_target, dtype=np.float32)"],  # two-sided smoothing
        ["real_targets = np.full(n, real_target, dtype=np.float32)\nfake_targets = np.zeros(n, dtype=np.float32)"],
        ["real_targets = np.zeros((n, 1), dtype=np.float32)\n"
         "fake_targets = np.full((n, 1), real_target, dtype=np.float32)"],  # swapped
    ],
    "ex2_one_iteration": [
        [_ITERATION.replace("D.trainable = True\n", "").replace("D.trainable = False\n", "")],  # the Keras 2 recipe
        [_ITERATION.replace("D.trainable = False\n", "")],  # D left trainable in G's step
        [_ITERATION.replace("D.trainable = True\n", "D.trainable = False\n", 1)
         .replace("D.trainable = False\ng_loss", "D.trainable = True\ng_loss")],  # the two flags swapped
        [_ITERATION.replace("D.trainable = True\n", "")],  # never unfrozen (frozen before the combined step only)
        ["g_loss = combined.train_on_batch(rng.standard_normal((n, LATENT_DIM), dtype=np.float32), g_targets)\n"
         + _ITERATION.split("g_loss")[0]],  # G's step first
    ],
    "ex3_generator_losses": [
        ["return np.log(1 - np.clip(d_fake, EPS, 1 - EPS))", "return -np.log(np.clip(d_fake, EPS, 1 - EPS))"],
        ["return -np.log(d_fake)", "return np.log(1 - d_fake)"],  # not clipped: infinite at D = 0 or 1
        ["return np.log(np.clip(d_fake, EPS, 1 - EPS))", "return np.log(1 - np.clip(d_fake, EPS, 1 - EPS))"],
    ],
    "ex1_discriminator": [
        [(_D_CONVS + _D_HEAD).replace("h = layers.Dropout(D_DROPOUT)(h)\nh = layers.Flatten",
                                      "h = layers.BatchNormalization()(h)\nh = layers.Flatten")],  # BatchNorm in D
        [_D_CONVS.replace('strides=2, padding="same")(image)', 'padding="same")(image)\nh = layers.MaxPooling2D()(h)')
         .replace('strides=2, padding="same")(h)', 'padding="same")(h)\nh = layers.MaxPooling2D()(h)') + _D_HEAD],  # pooling
        [_D_CONVS + _D_HEAD.replace('layers.Dense(1, activation="sigmoid")', "layers.Dense(1)")],  # no sigmoid
        [_D_CONVS + 'h = layers.Flatten()(h)\np_real = layers.Dense(1, activation="sigmoid")(h)'],  # no hidden layer
        [_D_CONVS.replace("h = layers.Dropout(D_DROPOUT)(h)\n", "") + _D_HEAD],  # no Dropout
    ],
    "ex2_slerp": [
        ["return (1 - t) * z0 + t * z1"],  # linear interpolation
        ["p = (1 - t) * z0 + t * z1\n"
         "return p / np.linalg.norm(p) * ((1 - t) * np.linalg.norm(z0) + t * np.linalg.norm(z1))"],  # normalised lerp
    ],
    "ex1_label_embedding": [
        ["h = z"],  # G ignores its label
        ['y_vec = layers.Embedding(NUM_CLASSES, 1, name="g_label_embedding")(label)\n'
         "h = layers.Concatenate()([z, y_vec])"],
    ],
    "ex2_per_class_accuracy": [
        ["return np.array([np.mean(requested[predicted == k] == k) if np.any(predicted == k) else np.nan\n"
         "                 for k in range(num_classes)])"],  # precision, not accuracy per requested class
        ["hit = predicted == requested\n"
         "return np.array([hit[requested == k].mean() if np.any(requested == k) else 0.0 for k in range(num_classes)])"],
        ["return np.full(num_classes, np.mean(predicted == requested))"],
    ],
    "ex1_minibatch_std": [
        ["spread = np.sqrt(x.var(axis=1) + 1e-8).mean()\n"
         "return np.concatenate([x, np.full((len(x), 1), spread, dtype=np.float32)], axis=1)"],  # std over features
        ["spread = np.sqrt(x.var(axis=0, ddof=1) + 1e-8).mean()\n"
         "return np.concatenate([x, np.full((len(x), 1), spread, dtype=np.float32)], axis=1)"],  # ddof=1, not ProGAN's
        ["return np.full((len(x), 1), np.sqrt(x.var(axis=0) + 1e-8).mean(), dtype=np.float32)"],  # replaces the features
        ["return np.concatenate([x, np.full((len(x), 1), x.std(), dtype=np.float32)], axis=1)"],  # std of all values
    ],
    "ex2_welch_compare": [
        ["diff = b.mean() - a.mean()\npooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)\n"
         "if pooled == 0:\n    return diff, 0.0, float(diff == 0)\n"
         "p = stats.ttest_ind(b, a, equal_var=True).pvalue\nreturn diff, pooled, float(p)"],  # Student's t-test, not Welch's
        ["diff = b.mean() - a.mean()\npooled = np.sqrt((a.var() + b.var()) / 2)\n"
         "if pooled == 0:\n    return diff, 0.0, float(diff == 0)\n"
         "p = stats.ttest_ind(b, a, equal_var=False).pvalue\nreturn diff, pooled, float(p)"],  # ddof=0
        ["diff = a.mean() - b.mean()\npooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)\n"
         "if pooled == 0:\n    return diff, 0.0, float(diff == 0)\n"
         "p = stats.ttest_ind(b, a, equal_var=False).pvalue\nreturn diff, pooled, float(p)"],  # baseline - other
        ["diff = b.mean() - a.mean()\npooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)\n"
         "p = stats.ttest_ind(b, a, equal_var=False).pvalue\nreturn diff, pooled, float(p)"],  # no zero-spread case: p is NaN
    ],
}


# Exercises whose self-check meets behaviour that changed between Keras versions (Keras < 3.15 refuses to build a
# model with an unused input), run on the oldest allowed stack too.
VERSION_DEPENDENT = {"ex1_label_embedding"}


def exercise_id(nb, index, number):
    return nb.cells[index].metadata.get("nbgrader", {}).get("grade_id", f"exercise {number}")


def all_exercises():
    out = []
    for path in LAB:
        nb = nbformat.read(path, as_version=4)
        for number, (i, j) in enumerate(make_student.exercises(nb), start=1):
            name = exercise_id(nb, i, number)
            marks = [pytest.mark.versions] if name in VERSION_DEPENDENT else []
            out.append(pytest.param(path, number, i, j, id=f"{path.stem[:2]}-{name}", marks=marks))
    return out


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    written = make_student.build(NOTEBOOKS, out)
    return {path.name: n for path, n in written}, out


def test_two_exercises_per_lab_notebook(student):
    counts, _ = student
    assert LAB, "no lab notebooks found"
    for path in LAB:
        assert counts[path.name] >= 2, f"{path.name}: {counts[path.name]} exercise(s)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copy_is_valid_and_holds_no_solution(student, path):
    _, out = student
    copy = nbformat.read(out / path.name, as_version=4)
    nbformat.validate(copy)
    instructor = nbformat.read(path, as_version=4)
    sources = "\n".join(c.source for c in copy.cells)
    for marker in (make_student.BEGIN, make_student.END, make_student.HINT):
        assert marker not in sources
    assert all(not c.outputs and c.execution_count is None for c in copy.cells if c.cell_type == "code")
    student_lines = {line.strip() for line in sources.split("\n")}
    pairs = make_student.exercises(instructor)
    for number, (i, j) in enumerate(pairs, start=1):
        lines = instructor.cells[i].source.split("\n")
        for region in make_student.regions(instructor.cells[i].source):
            for line in lines[region.start + 1 : region.end]:
                code = line.strip()
                if code and not code.startswith("#"):
                    assert code not in student_lines, f"solution line left in the student copy: {code}"
        ex_cell = next(c for c in copy.cells if c.get("id") == instructor.cells[i].get("id"))
        stubs = re.findall(r"raise NotImplementedError\('Exercise (\d+)", ex_cell.source)
        assert stubs == [str(number)] * len(make_student.regions(instructor.cells[i].source))
        check = next(c for c in copy.cells if c.get("id") == instructor.cells[j].get("id"))
        assert check.source == instructor.cells[j].source, "the self-check cell is kept as it is"
    if pairs:
        assert "**Student copy.**" in sources


def test_every_exercise_has_wrong_answers():
    ids = {exercise_id(nbformat.read(p.values[0], as_version=4), p.values[2], p.values[1]) for p in all_exercises()}
    missing = ids - WRONG.keys()
    assert not missing, f"add wrong answers for {sorted(missing)} to WRONG in this file"


_CONTEXTS = {}


def context(path, tmp_path_factory):
    """The namespace after the notebook's code cells before its first exercise (quick mode), cached."""
    if path not in _CONTEXTS:
        nb = nbformat.read(path, as_version=4)
        first = make_student.exercises(nb)[0][0]
        env = {"GAN_QUICK": "1", "GAN_FIGURES_DIR": str(tmp_path_factory.mktemp("figures"))}
        saved = {k: os.environ.get(k) for k in env}
        cwd = os.getcwd()
        namespace = {"__name__": "__main__"}
        try:
            os.environ.update(env)
            os.chdir(path.parent)
            with contextlib.redirect_stdout(io.StringIO()):
                for cell in nb.cells[:first]:
                    if cell.cell_type == "code":
                        exec(compile(cell.source, f"{path.name} setup", "exec"), namespace)
        finally:
            os.chdir(cwd)
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
            plt.close("all")
        _CONTEXTS[path] = namespace
    return dict(_CONTEXTS[path])


def run_exercise(namespace, exercise_source, check_source, wrong=False):
    """Run the exercise cell, then its self-check. For a wrong answer, the exercise cell's own asserts (it may
    check what it builds) are passed over, so that the self-check alone has to catch the mistake."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        if wrong:
            warnings.simplefilter("ignore", RuntimeWarning)  # e.g. log(0) in an unclipped loss
        try:
            exec(compile(exercise_source, "exercise", "exec"), namespace)
        except AssertionError:
            if not wrong:
                raise
        exec(compile(check_source, "self-check", "exec"), namespace)


@pytest.mark.parametrize("path,number,i,j", all_exercises())
def test_exercise_solution_passes_stub_raises_wrong_answers_fail(tmp_path_factory, path, number, i, j):
    nb = nbformat.read(path, as_version=4)
    source, check = nb.cells[i].source, nb.cells[j].source
    run_exercise(context(path, tmp_path_factory), source, check)  # the solution passes its self-check

    stub = make_student.student_notebook(nb).cells[i + 1].source  # (+1: the note for students under the title)
    assert stub != source
    with pytest.raises(NotImplementedError, match=f"Exercise {number}"):
        run_exercise(context(path, tmp_path_factory), stub, check)

    for wrong in WRONG[exercise_id(nb, i, number)]:
        with pytest.raises((AssertionError, ValueError)) as refused:
            answer = make_student.replace_regions(source, wrong)
            run_exercise(context(path, tmp_path_factory), answer, check, wrong=True)
        if refused.type is ValueError:  # Keras < 3.15 refuses to build a model whose label input is unused
            assert "not connected" in str(refused.value), refused.value


# -- the script's own checks
def notebook_with(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


EXERCISE = "def f(x):\n    ### BEGIN SOLUTION\n    ### HINT: double it\n    return 2 * x\n    ### END SOLUTION"


def test_stub_keeps_indentation_and_hint():
    nb = make_student.student_notebook(notebook_with(EXERCISE, "# Self-check\nassert f(2) == 4"))
    assert nb.cells[2].source == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError('Exercise 1: double it')"
    namespace = {}
    exec(nb.cells[2].source, namespace)
    with pytest.raises(NotImplementedError, match="double it"):
        exec(nb.cells[3].source, namespace)


@pytest.mark.parametrize(
    "sources,match",
    [
        ((EXERCISE, "assert f(2) == 4"), "not a '# Self-check' cell"),
        ((EXERCISE,), "not a '# Self-check' cell"),
        (("### BEGIN SOLUTION\nx = 1", "# Self-check"), "never closed"),
        (("x = 1\n### END SOLUTION", "# Self-check"), "without"),
    ],
)
def test_malformed_exercises_are_refused(sources, match):
    with pytest.raises(make_student.ExerciseError, match=match):
        make_student.student_notebook(notebook_with(*sources))


def test_command_line(tmp_path, capsys):
    make_student.main([str(LAB[0]), "--out", str(tmp_path / "student")])
    assert (tmp_path / "student" / LAB[0].name).is_file()
    assert "exercise(s)" in capsys.readouterr().out
