"""requirements.txt, environment.yml and pyproject.toml declare the same ranges."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse(lines):
    reqs = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name = re.match(r"[A-Za-z0-9_.\-\[\]]+", line).group(0).lower()
            reqs[name] = line[len(name):].replace(" ", "")
    return reqs


def test_requirements_and_environment_agree():
    req = parse((ROOT / "requirements.txt").read_text().splitlines())
    env_lines = [l.strip()[2:] for l in (ROOT / "environment.yml").read_text().splitlines() if l.startswith("      - ")]
    assert req == parse(env_lines)


def test_pyproject_runtime_ranges_match_requirements():
    req = parse((ROOT / "requirements.txt").read_text().splitlines())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for name, spec in parse(project["dependencies"]).items():
        assert req.get(name) == spec, f"{name}: pyproject says {spec}, requirements.txt {req.get(name)}"


def test_ranges_admit_colab_stack():
    req = parse((ROOT / "requirements.txt").read_text().splitlines())
    assert req["tensorflow"].startswith(">=2.20") and req["keras"].startswith(">=3.13")
    assert all("==" not in spec for spec in req.values()), "pin nothing exactly: Colab would reinstall"


def lower_bound(spec):
    """The version after '>=' in a range such as '>=2.20,<3' (None if there is none)."""
    match = re.search(r">=([0-9][0-9A-Za-z.]*)", spec)
    return match.group(1) if match else None


def test_oldest_stack_pins_every_lower_bound():
    """requirements-oldest.txt (CI's `make unit-oldest`) pins exactly the lowest versions allowed."""
    from packaging.version import Version

    req = parse((ROOT / "requirements.txt").read_text().splitlines())
    oldest = parse((ROOT / "requirements-oldest.txt").read_text().splitlines())
    assert set(oldest) == set(req), "pin every package of requirements.txt, and only those"
    for name, spec in req.items():
        bound = lower_bound(spec)
        assert bound, f"{name}: requirements.txt gives no lower bound ({spec})"
        assert oldest[name].startswith("=="), f"{name}: requirements-oldest.txt must pin with ==, got {oldest[name]}"
        assert Version(oldest[name][2:]) == Version(bound), (
            f"{name}: requirements-oldest.txt pins {oldest[name][2:]}, requirements.txt's lower bound is {bound}"
        )
    assert oldest["tensorflow"] == "==2.20.0" and oldest["keras"] == "==3.13.2", "the oldest stack is Colab's"


def test_makefile_runs_the_oldest_stack():
    makefile = (ROOT / "Makefile").read_text()
    assert "requirements-oldest.txt" in makefile and re.search(r"^test:.*\n\t\$\(MAKE\).*unit-oldest", makefile, re.M)
    assert ".venv-oldest/" in (ROOT / ".gitignore").read_text().splitlines()
