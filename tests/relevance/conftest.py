"""`make relevance` prints the share of the relevance set met, and any searches missed."""

_outcomes: dict[str, bool] = {}


def pytest_runtest_logreport(report):
    if report.when == "call" and "test_search_meets_its_expectations" in report.nodeid:
        _outcomes[report.nodeid] = report.passed
    elif report.failed and "test_search_meets_its_expectations" in report.nodeid:
        _outcomes[report.nodeid] = False  # a set-up or tear-down error: not met either


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    met, total = sum(_outcomes.values()), len(_outcomes)
    terminalreporter.write_sep("-", "relevance")
    for nodeid, passed in _outcomes.items():
        if not passed:
            terminalreporter.write_line(f"missed: {nodeid.split('[', 1)[-1].rstrip(']')}")
    terminalreporter.write_line(f"relevance: {met}/{total} searches met ({met / total:.0%})")
