"""`make bench-floor`: how far the results page's throughput could rise without its search.

Runs the throughput part of `make bench` (wrk, 8 connections, the same cycle of results
pages, /healthz in the same run) twice at 100,000 listings: against the site as it is,
and against bench/floor_app.py, where each results page's search work is answered from
memory after its first request. The second figure is a ceiling for any speed-up of the
search itself: what the page costs in Django, its form, middleware and template alone.
Ends with one line `FLOOR {json}`.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run  # noqa: E402
from bench.searches import throughput_paths  # noqa: E402

APPLICATIONS = {
    "site": "therapy_directory.wsgi",
    "without search work": "bench.floor_app:application",
}


def measure(url: str, application: str) -> dict:
    with run.serving(url, application) as (_env, server):
        # Each page a few times first: a worker remembers only the pages it served, and
        # either may take a connection. One it has not seen it works out once, in the run.
        for path in throughput_paths() * 3:
            run.get(path)
        return run.throughput(server, url)


def main() -> None:
    url = run.database_url("100k")
    run.fill(url, run.SCALES["100k"])
    figures = {}
    for name, application in APPLICATIONS.items():
        figures[name] = measure(url, application)
        run.log(f"  {name:20} {json.dumps(figures[name])}")
    print("FLOOR " + json.dumps(figures, separators=(",", ":")))


if __name__ == "__main__":
    main()
