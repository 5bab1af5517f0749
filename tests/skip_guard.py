"""A pytest plugin that keeps the suite from passing by skipping.

Every skip is counted by reason and the counts are printed at the end of the run, with the
outcomes of the tests that compare minidl against PyTorch (the ones whose module imports torch,
or that call ``pytest.importorskip("torch")``), so a log shows that the comparisons ran. With
``MINIDL_STRICT_SKIPS=1`` (set by ``.ci/run``) a skip whose reason matches no pattern in
``tests/allowed_skips.txt`` fails the run: a test that starts skipping in CI has to be allowed on
purpose, with the reason written next to its pattern.
"""

from __future__ import annotations

import inspect
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
        self.oracle_tests: set[str] = set()
        self.oracle_outcomes: Counter[str] = Counter()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if uses_torch(item):
                self.oracle_tests.add(item.nodeid)

    def is_allowed(self, reason: str) -> bool:
        return any(pattern.match(reason) for pattern in self.allowed)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid in self.oracle_tests and (report.when == "call" or not report.passed):
            self.oracle_outcomes[report.outcome] += 1
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
        write = terminalreporter.write_line
        if self.oracle_tests:
            outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.oracle_outcomes.items()))
            terminalreporter.section("comparisons with PyTorch")
            write(f"{len(self.oracle_tests)} tests compare against PyTorch: {outcomes or 'none ran'}")
        if not self.reasons:
            return
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


def uses_torch(item: pytest.Item) -> bool:
    """Whether a test compares against PyTorch: its module imported torch, or it imports it."""
    module = getattr(item, "module", None)
    if module is not None and getattr(module, "torch", None).__class__.__name__ == "module":
        return True
    function = getattr(item, "function", None)
    try:
        return function is not None and 'importorskip("torch")' in inspect.getsource(function)
    except (OSError, TypeError):
        return False


def register(config: pytest.Config) -> None:
    strict = os.environ.get("MINIDL_STRICT_SKIPS") == "1"
    config.pluginmanager.register(SkipGuard(strict, load_allowed()), "minidl-skip-guard")
