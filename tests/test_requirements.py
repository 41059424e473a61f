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
