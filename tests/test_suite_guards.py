"""The guards that keep the suite honest: which minidl it tests (tests/which_minidl.py) and the
skip check CI runs (tests/skip_guard.py)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minidl

import skip_guard
import which_minidl

TESTS = Path(__file__).resolve().parent


def test_the_suite_imported_a_minidl_with_its_native_module():
    # The run stops before any test otherwise (conftest.py), so a test that runs sees _C.
    from minidl.backend import native

    assert native.cpu_module() is not None or which_minidl.allow_no_native()
    assert which_minidl.has_native(Path(minidl.__file__).parent) or which_minidl.allow_no_native()


def test_a_tree_without_native_and_no_installed_copy_stops_with_the_fix(tmp_path, monkeypatch):
    tree = tmp_path / "minidl"
    tree.mkdir()
    (tree / "__init__.py").write_text("")
    monkeypatch.setattr(which_minidl, "SOURCE", tree)
    monkeypatch.setattr(which_minidl, "_installed_copy", lambda: None)
    monkeypatch.delenv("MINIDL_ALLOW_NO_NATIVE", raising=False)
    message = which_minidl.choose()
    assert message is not None and "minidl._C" in message and str(tree) in message
    assert 'pip install -e ".[dev]"' in message
    monkeypatch.setenv("MINIDL_ALLOW_NO_NATIVE", "1")
    assert which_minidl.choose() is None


def test_a_stale_installed_copy_stops_the_run_and_names_the_files(tmp_path, monkeypatch):
    tree, installed = tmp_path / "tree" / "minidl", tmp_path / "site" / "minidl"
    for package in (tree, installed):
        (package / "nn").mkdir(parents=True)
        (package / "__init__.py").write_text("x = 1\n")
        (package / "nn" / "conv.py").write_text("y = 2\n")
    (installed / f"_C{which_minidl.NATIVE_SUFFIXES[0]}").write_bytes(b"")
    monkeypatch.setattr(which_minidl, "SOURCE", tree)
    monkeypatch.setattr(which_minidl, "_installed_copy", lambda: installed)
    monkeypatch.setattr(sys, "path", list(sys.path))  # choose() may edit it
    assert which_minidl.choose() is None  # same code: the installed copy is tested
    (tree / "nn" / "conv.py").write_text("y = 3\n")
    message = which_minidl.choose()
    assert message is not None and "nn/conv.py" in message and "reinstall" in message


def test_allowed_skips_accept_the_gpu_reason_and_nothing_unlisted():
    guard = skip_guard.SkipGuard(strict=True, allowed=skip_guard.load_allowed())
    assert guard.is_allowed("needs a GPU: CuPy is not installed (pip install 'minidl[cuda]')")
    assert not guard.is_allowed("could not import 'torch': No module named 'torch'")
    assert not guard.is_allowed("minidl._C is not built")


def test_allowed_skips_file_gives_a_reason_for_every_pattern():
    for line in skip_guard.ALLOWED_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert " # " in line and line.split(" # ", 1)[1].strip(), f"no reason given: {line!r}"


def _run_inner_suite(tmp_path, strict):
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import skip_guard

        def pytest_configure(config):
            skip_guard.register(config)
    """)
    )
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent("""
        import pytest

        def test_runs():
            assert True

        def test_gpu():
            pytest.skip("needs a GPU: none here")

        def test_oracle():
            pytest.importorskip("a_module_that_is_not_installed")
    """)
    )
    env = dict(os.environ, MINIDL_STRICT_SKIPS="1" if strict else "0")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("strict", [True, False])
def test_an_unlisted_skip_fails_a_strict_run_and_is_reported(tmp_path, strict):
    done = _run_inner_suite(tmp_path, strict)
    assert "skips by reason" in done.stdout
    assert "NOT ALLOWED" in done.stdout and "a_module_that_is_not_installed" in done.stdout
    assert "test_inner.py::test_oracle" in done.stdout
    assert "test_inner.py::test_gpu" not in done.stdout.split("skipped for a reason not in")[1]
    assert done.returncode == (1 if strict else 0), done.stdout[-2000:]
