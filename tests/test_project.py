"""The project's promises about itself: set-up, contract copy, data provenance."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib

import pytest
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
    extras = project["optional-dependencies"]
    deps = project["dependencies"] + [d for group in extras.values() for d in group if not d.startswith("gradient[")]
    for dep in deps:
        assert re.search(r">=[\d.]+,<[\d.]+$", dep), dep
    names = {re.split(r"[<>=]", d)[0] for d in deps}
    assert {"jupyterlab", "geopandas", "osmnx", "folium", "statsmodels", "gtfs-kit"} <= names  # the client's stack
    core = {re.split(r"[<>=]", d)[0] for d in project["dependencies"]}
    assert not core & {"jupyterlab", "osmnx", "folium", "gtfs-kit", "dask", "matplotlib"}  # extras, not the core
    assert extras["test"][0] == "gradient[all]"  # make test installs everything


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
    from gradient.schema import (
        CONTEXT_PATTERNS_EXTRA_COLUMNS,
        PATTERNS_EXTRA_COLUMNS,
        STOPS_EXTRA_COLUMNS,
        STRETCHES_EXTRA_COLUMNS,
    )

    text = (ROOT / "docs" / "COLUMNS.md").read_text()
    stops_part, rest = text.split("## `patterns.csv`")
    patterns_part, stretches_part = rest.split("## `stretches.csv`")
    for col in STOPS_EXTRA_COLUMNS:
        assert f"`{col}`" in stops_part.split("## `stops.csv`")[1], col
    for col in PATTERNS_EXTRA_COLUMNS + CONTEXT_PATTERNS_EXTRA_COLUMNS:
        assert f"`{col}`" in patterns_part, col
    for col in STRETCHES_EXTRA_COLUMNS:
        assert f"`{col}`" in stretches_part, col


# --- the house: a front door, cheap imports, one options object ------------------------


def run_python(code: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env)


def test_import_gradient_loads_no_plotting_or_statistics_stack():
    code = (
        "import sys, gradient; gradient.run; gradient.load_areas; gradient.write_outputs; gradient.Options();"
        "print(sorted(m for m in ('matplotlib', 'folium', 'branca', 'statsmodels', 'gtfs_kit', 'osmnx') "
        "if m in sys.modules))"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_front_door_names_everything_a_researcher_needs():
    import gradient

    for name in (
        "run",
        "load_areas",
        "read_feed",
        "stop_patterns",
        "read_tfl_sequences",
        "sensitivity",
        "write_outputs",
        "datasets",
        "Options",
        "Result",
        "GradientError",
        "OptionError",
        "FeedError",
    ):
        assert name in gradient.__all__ and getattr(gradient, name) is not None, name
    assert set(gradient.__all__) <= set(dir(gradient))


def test_every_error_lives_in_errors():
    import gradient.errors as errors

    for path in (ROOT / "src" / "gradient").rglob("*.py"):
        if path.name != "errors.py":
            assert not re.search(r"^class \w+\((\w+Error|Exception|ValueError)\b", path.read_text(), flags=re.M), path
    assert issubclass(errors.OptionError, errors.InputError) and issubclass(errors.InputError, ValueError)


def test_options_are_checked_when_made():
    from gradient import OptionError, Options

    for bad, message in [
        ({"alpha": 5}, r"alpha=5 must be a number from 1e-06 to 0.5"),
        ({"stretch_k": 0}, r"stretch_k=0 must be a whole number from 1 to 50"),
        ({"radius_m": -1}, r"radius_m=-1 must be a number from 1 to 5000, metres"),
        ({"routes": [1.5]}, r"routes=\[1.5\] must be a route name or id"),
        ({"family": "city"}, r"family=.city. is not one of network, route"),
        ({"method": "walk"}, r"method='walk' is not one of point, buffer, network"),
        ({"method": "network"}, r"method='network' needs a street network"),
    ]:
        with pytest.raises(OptionError, match=message):
            Options(**bad)
    with pytest.raises(OptionError, match=r"unknown option\(s\) radius; options are method, radius_m"):
        Options().replace(radius=3)


def test_run_and_batch_offer_the_same_options():
    from gradient import cli
    from gradient.options import option_fields

    parser = cli._parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    flags = {name: {f for a in p._actions for f in a.option_strings} for name, p in sub.items()}
    for f in option_fields():
        for command in f.metadata["commands"]:
            assert f.metadata["flag"] in flags[command], f.name
    # only --cluster is run's alone: gradient batch runs on a cluster already
    assert [f.name for f in option_fields() if f.metadata["commands"] != ("run", "batch")] == ["cluster"]
    sources = {"--gtfs", "--tfl-sequences", "--tfl-route-lines", "--sequences", "--seq-lines"}
    assert flags["run"] - flags["batch"] == sources | set(cli.SEQ_FLAGS) | {"--cluster"}


def test_a_mistyped_feed_is_refused_before_any_boundary_is_read(monkeypatch, capsys, tmp_path):
    from gradient import areas, cli

    def never(*args, **kwargs):
        raise AssertionError("the boundaries were read before the feed was checked")

    monkeypatch.setattr(areas, "read_boundaries", never)
    code = cli.main(
        [
            "run",
            "--gtfs",
            str(tmp_path / "hart.zp"),
            "--areas",
            str(ROOT / "data/raw/tampa/hillsborough_tracts_2010.geojson"),
            "--le",
            str(ROOT / "data/raw/usa/US_A.CSV"),
            "--le-format",
            "usaleep",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.strip().endswith("hart.zp: no such file or folder; give a GTFS zip or folder")


def test_lint_with_the_numpydoc_docstring_rules():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks", "docs"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_code_is_formatted_as_ruff_formats_it():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "benchmarks", "docs"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_api_reference_builds_from_the_docstrings(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "gradient.pipeline.run" in page and "Options" in page
    # the docstrings' Sphinx roles are links now, not literal text
    pages = [p.read_text() for p in (tmp_path / "site" / "api").rglob("index.html")]
    assert sum(p.count('class="autorefs autorefs-internal"') for p in pages) > 300
    assert not any(":func:`" in p or ":class:`" in p for p in pages)


def test_a_reference_to_a_name_that_does_not_exist_fails_the_docs_build():
    import griffe

    spec = importlib.util.spec_from_file_location("roles", ROOT / "docs" / "hooks" / "roles.py")
    roles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    pkg = griffe.load("gradient", search_paths=[str(ROOT / "src")])
    where = pkg["pipeline"]
    link = lambda text: roles.ROLE.sub(lambda m: roles.CrossReferences._link(pkg, where, m), text)  # noqa: E731
    assert link(":func:`run`") == "[`run()`][gradient.pipeline.run]"
    assert link(":class:`~gradient.areas.dataset.Areas`") == "[`Areas`][gradient.areas.dataset.Areas]"
    assert link(":func:`gradient.no_such_thing`") == "[`gradient.no_such_thing()`][gradient.no_such_thing]"  # fails
    assert link(":class:`ValueError`") == "`ValueError`"  # Python's own: named, not linked


@pytest.mark.slow
def test_an_installed_wheel_carries_the_code_only_and_runs_outside_the_checkout(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("gradient-*.whl"))
    assert wheel.stat().st_size < 1_000_000  # the code only: the 31 MB of data stay in the checkout
    import zipfile

    assert not [n for n in zipfile.ZipFile(wheel).namelist() if "_data" in n or n.endswith((".zip", ".xls", ".csv"))]
    target = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr
    code = (
        "import warnings, pydoc, gradient; warnings.simplefilter('ignore');"
        "d = gradient.datasets;"
        "t = gradient.load_areas(d.get_path('hillsborough_tracts'), d.get_path('usaleep'), 'usaleep');"
        "r = gradient.run(d.get_path('hart_gtfs'), t);"
        "print(gradient.__file__); print(d.get_path('hart_gtfs')); print(len(r.patterns));"
        "from gradient.options import option_names;"
        "print(all(f'``{n}``' in pydoc.render_doc(gradient.run) and n in pydoc.render_doc(gradient.Options)"
        " for n in option_names()))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("GRADIENT_DATA", None)
    missing = run_python("import gradient; gradient.datasets.get_path('hart_gtfs')", cwd=tmp_path, env=env)
    assert "not with the wheel; set GRADIENT_DATA to a copy of data/raw" in missing.stderr
    env["GRADIENT_DATA"] = str(ROOT / "data" / "raw")  # the data, wherever the user keeps a copy
    proc = run_python(code, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    where, data, n, helped = proc.stdout.split()
    assert where.startswith(str(target)) and data.startswith(str(ROOT / "data" / "raw"))
    assert n == "85" and helped == "True"


def readme_block(text: str, after: str) -> list[str]:
    """The indented block that follows the line ``after`` in the README, unindented."""
    lines = text[text.index(after) + len(after) :].splitlines()[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    block = []
    for line in lines:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    while block and not block[-1].strip():
        block.pop()
    return block


def comparable(lines: list[str]) -> list[str]:
    """Printed lines without what changes from run to run: the seconds, and the folder the files went to."""
    return [
        re.sub(r"files in \S*/route25/", "files in route25/", re.sub(r", in [0-9.]+ s$", "", line)) for line in lines
    ]


def test_the_readme_route_command_prints_what_the_readme_says(tmp_path, capsys):
    import shlex

    from gradient import cli

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## For journalists") :]
    command = " ".join(readme_block(section, "## For journalists: a map of a route, ready to embed")).replace("\\", " ")
    args = shlex.split(command)
    assert args[:2] == ["gradient", "run"]
    args[args.index("--out") + 1] = str(tmp_path / "route25")
    assert cli.main([a if not a.startswith("data/") else str(ROOT / a) for a in args[1:]]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert comparable(printed) == comparable(readme_block(section, "prints (a test runs it)"))


NOT_INSTALLED = """
import sys, importlib.abc
EXTRAS = {"matplotlib", "folium", "branca", "osmnx", "networkx", "dask", "distributed", "python_calamine", "gtfs_kit",
          "jupyterlab", "ipywidgets"}
class NotInstalled(importlib.abc.MetaPathFinder):  # the extras, as if pip had not installed them
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in EXTRAS or name.startswith("xstatic.pkg"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NotInstalled())
from gradient.cli import main
code = main(sys.argv[1:])
print("loaded:", sorted(m for m in EXTRAS if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("maps", ["0", "1"])
def test_the_core_alone_runs_with_maps_0_and_names_the_extra_otherwise(tmp_path, maps):
    raw = ROOT / "data" / "raw"
    argv = ["run", "--gtfs", str(raw / "tampa/hart_gtfs_2018.zip"), "--areas"]
    argv += [str(raw / "tampa/hillsborough_tracts_2010.geojson"), "--le", str(raw / "usa/US_A.CSV")]
    argv += ["--le-format", "usaleep", "--maps", maps, "--out", str(tmp_path / "out")]
    proc = subprocess.run([sys.executable, "-c", NOT_INSTALLED, *argv], capture_output=True, text=True)
    last = proc.stderr.strip().splitlines()
    assert last[-1] == "loaded: []"  # nothing a run does not use is imported
    if maps == "0":
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "out" / "patterns.csv").exists()
    else:
        assert proc.returncode == 2
        assert last[-2] == (
            "gradient: error: --maps 1 (--maps 0 draws none) needs matplotlib, folium, branca, xstatic.pkg.leaflet, "
            "which are not installed: pip install 'gradient[maps]'"
        )
        assert not (tmp_path / "out").exists()  # said before anything was read or written


def test_every_module_an_extra_brings_is_in_pyproject():
    import tomllib

    from gradient._extras import EXTRAS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in EXTRAS:
        assert extra in extras and extra in extras["all"][0], extra


@pytest.mark.parametrize("package", ["gradient", "sources", "areas", "assign", "stats", "story", "present", "output"])
def test_every_name_a_package_offers_exists(package):
    import importlib

    module = importlib.import_module("gradient" if package == "gradient" else f"gradient.{package}")
    for name in module.__all__:
        assert getattr(module, name) is not None, name  # a lazily offered name that no longer exists fails here


def test_mypy_finds_no_error_in_src():
    proc = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_library_keywords_may_be_named_as_the_command_line_names_them():
    from gradient import Options
    from gradient.options import as_options

    assert Options().replace(route="25").routes == ("25",)
    assert as_options({"route": 8}).routes == ("8",)
