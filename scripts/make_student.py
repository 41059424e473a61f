"""Build the student copies of the notebooks: solutions become exercises.

    python scripts/make_student.py notebooks/*.ipynb --out build/student     # what `make student` runs

The instructor notebooks mark each solution with nbgrader's delimiters, so nbgrader can use them too:

    def discriminator_targets(n, real_target=1.0):
        ### BEGIN SOLUTION
        ### HINT: what the stub tells the student (optional, one or more lines)
        real_targets = ...
        ### END SOLUTION
        return real_targets, fake_targets

In a student copy the lines from BEGIN to END become, at the marker's indentation,

        # YOUR CODE HERE
        raise NotImplementedError("Exercise 1: what the stub tells the student")

A cell with one or more such regions is one exercise. The next code cell must be its self-check, a cell
whose first line starts with ``# Self-check``: asserts that pass once the student's code is right (they
pass on the solution, so the instructor notebook runs them too). Every output is cleared, a note for
students is added under the title, and the copy is validated with ``nbformat.validate``.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
CHECK_PREFIX = "# Self-check"
STUDENT_NOTE = (
    "**Student copy.** Each cell that ends in `raise NotImplementedError(...)` is an exercise: replace the two "
    "lines under `# YOUR CODE HERE` with your code (the message is a hint), run the cell, then run the "
    "*Self-check* cell below it, which passes once your code is right. Run the notebook from the top "
    "(\"Restart & Run All\") after each exercise. On a slow machine, set `GAN_QUICK=1` for short runs and, in "
    "notebooks 02 and 03, `GAN_TRAIN=0` to load the pretrained generator instead of training one."
)


class ExerciseError(ValueError):
    """A malformed solution region or an exercise without its self-check cell."""


@dataclass
class Region:
    """One solution region of a cell: lines ``start``..``end`` (the two markers included)."""

    start: int
    end: int
    indent: str
    hint: str


def regions(source) -> list[Region]:
    """The solution regions of a cell's source, in order; raises ExerciseError on unbalanced markers."""
    found, start, hint = [], None, []
    for i, line in enumerate(source.split("\n")):
        text = line.strip()
        if text.startswith(BEGIN):
            if start is not None:
                raise ExerciseError(f"line {i + 1}: {BEGIN} inside another solution region")
            start, hint = i, []
        elif text.startswith(HINT) and start is not None:
            hint.append(text[len(HINT):].strip())
        elif text.startswith(END):
            if start is None:
                raise ExerciseError(f"line {i + 1}: {END} without {BEGIN}")
            indent = re.match(r"\s*", source.split("\n")[start]).group(0)
            found.append(Region(start, i, indent, " ".join(hint)))
            start = None
    if start is not None:
        raise ExerciseError(f"line {start + 1}: {BEGIN} is never closed by {END}")
    return found


def replace_regions(source, replacements) -> str:
    """``source`` with its solution regions (markers included) replaced, in order, by ``replacements``.

    Each replacement is code without indentation; it is indented like the region's BEGIN marker.
    """
    found = regions(source)
    if len(replacements) != len(found):
        raise ExerciseError(f"{len(found)} solution region(s), {len(replacements)} replacement(s)")
    lines = source.split("\n")
    for region, code in reversed(list(zip(found, replacements))):
        lines[region.start : region.end + 1] = [region.indent + line if line else line for line in code.split("\n")]
    return "\n".join(lines)


def stub(number, hint) -> str:
    message = f"Exercise {number}: {hint}" if hint else f"Exercise {number}"
    return f"# YOUR CODE HERE\nraise NotImplementedError({message!r})"


def is_check(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_PREFIX)


def exercises(nb) -> list[tuple[int, int]]:
    """``(exercise cell index, self-check cell index)`` for every exercise of a notebook, in order."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            found = regions(cell.source)
        except ExerciseError as exc:
            raise ExerciseError(f"cell {i}: {exc}") from None
        if not found:
            continue
        nxt = next((j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"), None)
        if nxt is None or not is_check(nb.cells[nxt]):
            raise ExerciseError(f"cell {i} holds a solution, but the next code cell is not a '{CHECK_PREFIX}' cell")
        pairs.append((i, nxt))
    return pairs


def student_notebook(nb):
    """A student copy of an instructor notebook (a new object; ``nb`` is left as it is)."""
    student = copy.deepcopy(nb)
    for number, (i, _) in enumerate(exercises(student), start=1):
        cell = student.cells[i]
        cell.source = replace_regions(cell.source, [stub(number, r.hint) for r in regions(cell.source)])
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    if exercises(nb):
        title = next((k for k, c in enumerate(student.cells) if c.cell_type == "markdown"), -1)
        student.cells.insert(title + 1, nbformat.v4.new_markdown_cell(STUDENT_NOTE))
    nbformat.validate(student)
    return student


def build(paths, out) -> list[tuple[Path, int]]:
    """Write the student copy of each notebook into ``out``; returns (path written, number of exercises)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        try:
            student = student_notebook(nb)
        except ExerciseError as exc:
            raise ExerciseError(f"{path}: {exc}") from None
        target = out / path.name
        nbformat.write(student, target)
        written.append((target, len(exercises(nb))))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/student"), help="folder for the copies")
    args = parser.parse_args(argv)
    try:
        written = build(args.notebooks, args.out)
    except ExerciseError as exc:
        sys.exit(f"error: {exc}")
    for target, n in written:
        print(f"{target}: {n} exercise(s)")


if __name__ == "__main__":
    main()
