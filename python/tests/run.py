"""Runs the Python suite and writes one JSON line per test to a report file, for the tap wrapper
(test/python/python.test.ts) to turn into one assertion each:

    {"id": "tests.test_client.ClientAgainstCluster.test_missing_pages", "outcome": "pass", "seconds": 0.4}

outcome is pass, fail, error or skip; fail/error/skip lines carry "details". Human-readable
unittest output goes to stderr as usual. Exits 0 when every test passed.

    cd python && PYTHONPATH=src /usr/bin/python3 -m tests.run REPORT.jsonl [-k PATTERN]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import unittest


class JsonLinesResult(unittest.TextTestResult):
    def __init__(self, stream, descriptions, verbosity, report=None):
        super().__init__(stream, descriptions, verbosity)
        self._report = report
        self._started = 0.0

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _write(self, test, outcome, details=""):
        line = {"id": test.id(), "outcome": outcome, "seconds": round(time.monotonic() - self._started, 3)}
        if details:
            line["details"] = details[-4000:]
        self._report.write(json.dumps(line) + "\n")
        self._report.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._write(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._write(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._write(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._write(test, "skip", reason)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("-k", dest="patterns", action="append", default=None)
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.patterns]
    suite = loader.discover(here, pattern="test_*.py", top_level_dir=os.path.dirname(here))
    with open(args.report, "w", encoding="utf-8") as report:
        runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2,
                                         resultclass=lambda *a: JsonLinesResult(*a, report=report))
        result = runner.run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
