"""The project's promises about itself: set-up, contract copy, data provenance."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import ROOT

from gradient.schema import PATTERNS_CSV_COLUMNS, STOPS_CSV_COLUMNS


def test_environment_yml_installs_from_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    pythons = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert pythons == [f"python{project['requires-python']}"]
    assert "pip" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    # the project itself, from pyproject.toml, is the only thing pip installs: nothing to drift
    assert pip == ["-e .[test]"]
    assert [d for d in deps if isinstance(d, str)] == pythons + ["pip"]


def test_dependencies_pin_major_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["test"]
    for dep in deps:
        assert re.search(r">=[\d.]+,<[\d.]+$", dep), dep
    names = {re.split(r"[<>=]", d)[0] for d in deps}
    assert {"jupyterlab", "geopandas", "osmnx", "folium", "statsmodels", "gtfs-kit"} <= names


def test_readme_starts_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.strip()]
    code = [line for line in lines[:8] if line.startswith(("make ", "    make "))]
    assert [c.strip() for c in code] == ["make demo", "make test"]


def contract_columns(section: str) -> list[str]:
    text = (ROOT / "docs" / "CONTRACT.md").read_text()
    block = text.split(f"`{section}`, one row per", 1)[1].split("\n\n`", 1)[0]
    cols = []
    for row in re.findall(r"^\| (`.+?`) \|", block, flags=re.M):
        cols += re.findall(r"`([a-z_]+)`", row)
    return cols


def test_contract_copy_matches_schema():
    assert contract_columns("stops.csv") == STOPS_CSV_COLUMNS
    assert contract_columns("patterns.csv") == PATTERNS_CSV_COLUMNS


def test_bundled_data_has_provenance():
    readme = (ROOT / "data" / "raw" / "README.md").read_text()
    for path in (ROOT / "data" / "raw").rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.name in readme, path


def test_nothing_reads_shared_at_run_time():
    for path in list((ROOT / "src").rglob("*.py")) + list((ROOT / "notebooks").glob("*.ipynb")):
        assert "../shared" not in path.read_text() and "/shared/data" not in path.read_text(), path


def test_additional_columns_are_documented():
    from gradient.schema import PATTERNS_EXTRA_COLUMNS, STOPS_EXTRA_COLUMNS

    text = (ROOT / "docs" / "COLUMNS.md").read_text()
    stops_part, patterns_part = text.split("## `patterns.csv`")
    for col in STOPS_EXTRA_COLUMNS:
        assert f"`{col}`" in stops_part.split("## `stops.csv`")[1], col
    for col in PATTERNS_EXTRA_COLUMNS:
        assert f"`{col}`" in patterns_part, col
