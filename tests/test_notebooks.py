"""Every notebook runs top to bottom on the bundled data, is stored without outputs, and shows
its charts and maps (a chart cell leaves a PNG, a map cell a self-contained page)."""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["01-tampa-gradient.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean_and_thin(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
            assert "def " not in cell.source and "class " not in cell.source


def shown(cell) -> set[str]:
    """The kinds of thing a cell showed: ``chart`` (a PNG) and ``map`` (a page in an iframe)."""
    kinds = set()
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            kinds.add("chart")
        html = data.get("text/html", "")
        if "<iframe srcdoc=" in html and "leaflet" in html.lower():
            kinds.add("map")
    return kinds


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_charts_and_maps(path):
    nb = nbformat.read(path, as_version=4)
    # execute() raises CellExecutionError on the first cell that fails
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        wanted = {"chart"} if "present.profile(" in cell.source else set()
        wanted |= {"map"} if "_map(" in cell.source and "present." in cell.source else set()
        assert wanted <= shown(cell), (path.name, cell.source, shown(cell))
        for out in cell.get("outputs", []):  # warnings read like the command line's: one line, nothing internal
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            assert "GradientWarning:" not in text and "src/gradient" not in text, (path.name, text)
            assert "TqdmWarning" not in text and "IProgress" not in text, (path.name, text)
            for line in text.splitlines():
                assert not line.startswith("gradient: warning:") or line.strip(), line
