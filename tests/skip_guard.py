"""A pytest plugin that keeps the suite from passing by skipping.

Every skip is counted by reason and the counts are printed at the end of the run. With
``MINIDL_STRICT_SKIPS=1`` (set by ``.ci/run``) a skip whose reason matches no pattern in
``tests/allowed_skips.txt`` fails the run: a test that starts skipping in CI has to be allowed on
purpose, with the reason written next to its pattern.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

ALLOWED_FILE = Path(__file__).with_name("allowed_skips.txt")


def load_allowed(path: Path = ALLOWED_FILE) -> list[re.Pattern[str]]:
    """One regular expression per line (matched at the start of a skip reason); '#' starts a comment."""
    patterns = []
    for line in path.read_text().splitlines():
        text = line.split(" #", 1)[0].strip()
        if text and not text.startswith("#"):
            patterns.append(re.compile(text))
    return patterns


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


class SkipGuard:
    def __init__(self, strict: bool, allowed: list[re.Pattern[str]]):
        self.strict = strict
        self.allowed = allowed
        self.reasons: Counter[str] = Counter()
        self.unexpected: list[tuple[str, str]] = []

    def is_allowed(self, reason: str) -> bool:
        return any(pattern.match(reason) for pattern in self.allowed)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = skip_reason(report)
        self.reasons[reason] += 1
        if not self.is_allowed(reason):
            self.unexpected.append((report.nodeid, reason))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.strict and self.unexpected and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:  # type: ignore[no-untyped-def]
        if not self.reasons:
            return
        write = terminalreporter.write_line
        terminalreporter.section("skips by reason")
        for reason, count in self.reasons.most_common():
            mark = "allowed " if self.is_allowed(reason) else "NOT ALLOWED"
            write(f"{count:5d}  {mark:11s}  {reason}")
        if self.unexpected:
            verdict = "the run fails" if self.strict else "set MINIDL_STRICT_SKIPS=1 to fail on them"
            write(
                f"{len(self.unexpected)} test(s) skipped for a reason not in {ALLOWED_FILE.name} "
                f"({verdict}), e.g.:"
            )
            for nodeid, reason in self.unexpected[:20]:
                write(f"    {nodeid}: {reason}")


def register(config: pytest.Config) -> None:
    strict = os.environ.get("MINIDL_STRICT_SKIPS") == "1"
    config.pluginmanager.register(SkipGuard(strict, load_allowed()), "minidl-skip-guard")
