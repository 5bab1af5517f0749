"""Every tutorial chapter runs to the end as a script, writes something to look at, and opens as a
notebook (see tutorials/README.md for the conventions these tests hold the chapters to)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
CHAPTERS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
OUTPUT_SUFFIXES = {".png", ".svg", ".dot", ".txt", ".csv", ".json", ".pdf"}
TIMEOUT_S = 300  # a chapter should take ~30 s on two cores; this only catches a hang


@pytest.fixture(scope="session")
def tutorial_data(tmp_path_factory):
    """One data folder for every chapter, so MNIST-1D is generated once per test session."""
    return tmp_path_factory.mktemp("tutorial_data")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_as_a_script(chapter, tmp_path, tutorial_data):
    out = tmp_path / "out"
    env = dict(os.environ, MINIDL_TUTORIAL_OUT=str(out), MINIDL_DATA=str(tutorial_data), MPLBACKEND="Agg")
    env.pop("MINIDL_DEVICE", None)  # chapters choose their device themselves
    try:
        done = subprocess.run(
            [sys.executable, str(chapter)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as err:
        tail = (err.stderr or b"")[-3000:]
        pytest.fail(f"{chapter.name} did not finish in {TIMEOUT_S} s; stderr tail:\n{tail}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(
            f"{chapter.name} exited with code {done.returncode}; stderr tail:\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    written = (
        [p for p in out.rglob("*") if p.is_file() and p.suffix.lower() in OUTPUT_SUFFIXES]
        if out.exists()
        else []
    )
    assert written, (
        f"{chapter.name} wrote nothing to MINIDL_TUTORIAL_OUT ({out}); every chapter ends with "
        f"something to look at (a PNG, SVG, DOT or text file)"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_is_a_valid_notebook(chapter):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    nb = jupytext.read(chapter)
    nbformat.validate(nbformat.reads(jupytext.writes(nb, fmt="ipynb"), as_version=4))
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds and kinds[0] == "markdown", f"{chapter.name}: the first cell must be the markdown header"
    assert kinds[-1] == "markdown", f"{chapter.name}: the last cell must be the exercises (markdown)"
    assert "code" in kinds, f"{chapter.name}: no code cells; use '# %%' to start one"
    header = nb.cells[0].source
    assert re.search(r"^#\s+\S", header, re.M), f"{chapter.name}: the header cell needs a '# Title' line"
    assert "../minidl/" in header, f"{chapter.name}: the header should link to the minidl files it teaches"
    assert "xercise" in nb.cells[-1].source, f"{chapter.name}: the last cell should hold the exercises"


def test_chapters_are_numbered_contiguously_from_01():
    numbers = [int(c.name[:2]) for c in CHAPTERS]
    assert numbers, "no tutorial chapters found in tutorials/"
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"tutorial chapters must be numbered 01, 02, ... without gaps or repeats; found "
        f"{[c.name for c in CHAPTERS]}"
    )


def test_readme_lists_every_chapter():
    readme = (TUTORIALS / "README.md").read_text()
    assert "jupytext --to ipynb tutorials/[0-9]*.py" in readme
    missing = [c.name for c in CHAPTERS if c.name not in readme]
    assert not missing, f"tutorials/README.md does not list {missing}"
