"""backend/memory.py: malloc keeps freed array memory (glibc), and the switch turns it off."""

import subprocess
import sys

import pytest

from minidl.backend import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_thresholds_are_set_on_glibc():
    assert memory.keep_freed_memory() is True


def test_the_environment_switch_turns_it_off(monkeypatch):
    monkeypatch.setenv("MINIDL_MALLOC_TUNING", "0")
    assert memory.keep_freed_memory() is False


def test_import_minidl_sets_them_once_without_output():
    done = subprocess.run(
        [sys.executable, "-c", "import minidl"], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "" and done.stderr == ""
