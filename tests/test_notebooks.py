"""The analyst notebooks run top to bottom on the bundled sample, and are stored clean."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

# jupyter_core warns on import unless it is told which path scheme to use.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_gaps_and_priorities.ipynb",
        "03_what_if_and_sites.ipynb",
        "04_bring_your_own_data.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_in_under_a_minute(path: Path, tmp_path: Path):
    book = nbformat.read(path, as_version=4)
    started = time.monotonic()
    NotebookClient(
        book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    elapsed = time.monotonic() - started
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert not errors
    assert elapsed < 60, f"{path.name} took {elapsed:.0f} s"
