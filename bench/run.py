"""`make bench`: measure the real site, under gunicorn with production settings, on a large PostgreSQL.

Fills (and keeps) a database of generated providers, serves the site with gunicorn.conf.py,
measures each search in bench/searches.py at 8 concurrent connections, the throughput of the
results page against a trivial view, queries per page and page weight (also with a photo on
each of the 20 cards), then prints one line
`BENCH {json}` and writes bench/results/report.md with a plot of latency against scale.

    SCALE=100k (default) or SCALE=1m; BENCH_DATABASE_URL or DATABASE_URL names the database.
"""

import concurrent.futures
import contextlib
import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.searches import SEARCHES, throughput_paths  # noqa: E402

PYTHON = sys.executable
SCALES = {"100k": 100_000, "1m": 1_000_000}
PORT = 8765
CONNECTIONS = 8
REQUESTS_PER_SEARCH = int(os.environ.get("BENCH_REQUESTS", "160"))
THROUGHPUT_SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The database


def database_url(scale: str) -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    url = url or "postgres://postgres@127.0.0.1:5432/therapy_directory_bench"
    if not url.startswith("postgres"):
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    return url if scale == "100k" else url.rstrip("/") + "_1m"


def sql(url: str, query: str, database: str | None = None):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    target = parts._replace(path="/" + (database or parts.path.lstrip("/"))).geturl()
    with psycopg.connect(target, autocommit=True) as connection:
        cursor = connection.execute(query)
        return cursor.fetchall() if cursor.description else None


def fill(url: str, providers: int) -> float | None:
    """Make sure the database holds `providers` providers; returns the seeding time if it seeded."""
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if not sql(url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'", database="postgres"):
        sql(url, f'CREATE DATABASE "{name}"', database="postgres")
    env = dict(os.environ, DATABASE_URL=url, DJANGO_DEBUG="true")
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    have = sql(url, "SELECT count(*) FROM services_provider")[0][0]
    if have >= providers:
        log(f"Database {name} already holds {have:,} providers.")
        return None
    log(f"Seeding {providers - have:,} providers into {name} (kept for later runs)...")
    started = time.monotonic()
    subprocess.run(
        [
            PYTHON,
            "manage.py",
            "seed_demo",
            "--providers",
            str(providers - have),
            "--batch-size",
            "5000",
            "--seed",
            str(have + 1),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    seconds = time.monotonic() - started
    sql(url, "VACUUM ANALYZE")
    return seconds


# The server


def production_env(url: str, static_root: str) -> dict:
    workers = int(os.environ.get("GUNICORN_WORKERS", os.cpu_count()))
    return dict(
        os.environ,
        # The load's connections split evenly between the workers (gunicorn.conf.py says why).
        GUNICORN_WORKER_CONNECTIONS=str(-(-CONNECTIONS // workers)),
        DATABASE_URL=url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_STATIC_ROOT=static_root,
        GUNICORN_BIND=f"127.0.0.1:{PORT}",
    )


@contextlib.contextmanager
def serving(url: str, application: str = "therapy_directory.wsgi"):
    """(env, server): the application under gunicorn with production settings, for the
    length of the block."""
    with tempfile.TemporaryDirectory() as static_root:
        env = production_env(url, static_root)
        server = start_server(env, application)
        try:
            yield env, server
        finally:
            server.terminate()
            server.wait(timeout=20)


def start_server(env: dict, application: str = "therapy_directory.wsgi") -> subprocess.Popen:
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", application, "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
    )
    # The master builds the listing index before it starts workers: over a minute at 1M.
    for _ in range(3000):
        if server.poll() is not None:
            sys.exit("gunicorn stopped")
        try:
            if get("/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not start")


def get(path: str, connection: http.client.HTTPConnection | None = None, gzip_ok: bool = False):
    """(status, body, client ms, server ms, headers) for one request."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    client_ms = (time.perf_counter() - started) * 1000
    timing = re.search(r"dur=([\d.]+)", response.getheader("Server-Timing", ""))
    if own:
        connection.close()
    return (
        response.status,
        body,
        client_ms,
        float(timing.group(1)) if timing else None,
        dict(response.getheaders()),
    )


# Measuring


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure_latency(path: str) -> dict:
    """REQUESTS_PER_SEARCH requests over CONNECTIONS keep-alive connections at once."""
    per_connection = REQUESTS_PER_SEARCH // CONNECTIONS

    def worker(_):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        samples = [get(path, connection) for _ in range(per_connection)]
        connection.close()
        return samples

    get(path)  # warm the caches a person's second visit would find warm
    with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
        samples = [s for batch in pool.map(worker, range(CONNECTIONS)) for s in batch]
    server = [s[3] for s in samples if s[3] is not None]
    statuses = sorted({s[0] for s in samples})
    body = samples[-1][1]
    return {
        "status": statuses,
        "p50": round(percentile(server, 50), 1),
        "p95": round(percentile(server, 95), 1),
        "p99": round(percentile(server, 99), 1),
        "client_p95": round(percentile([s[2] for s in samples], 95), 1),
        "html_gzip_bytes": len(gzip.compress(body, 6)),
        "results": results_found(body),
    }


def results_found(body: bytes) -> int | None:
    """How many results a results page says it found (None for other pages): at a million
    listings a search near a town finds about ten times what it does at 100,000."""
    found = re.search(rb'id="results-title"[^>]*>([\d,]+) ', body)
    return int(found.group(1).replace(b",", b"")) if found else None


# An edit is visible when this many results pages in a row (spread over the workers)
# show it; each edit is undone the same way before the next.
EDITS_TIMED = int(os.environ.get("BENCH_EDITS_TIMED", "20"))
EDITS_FOR_MEMORY = int(os.environ.get("BENCH_EDITS_FOR_MEMORY", "1000"))
SEEN_IN_A_ROW = 3 * CONNECTIONS
EDITED_SEARCH = "/find/?near=Leeds"


class Editor:
    """bench/edits.py in a process of its own, editing as the admin does."""

    def __init__(self, url: str):
        self.process = subprocess.Popen(
            [PYTHON, "bench/edits.py"],
            cwd=ROOT,
            env=dict(os.environ, DATABASE_URL=url, DJANGO_DEBUG="true"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, verb: str, provider_id: int) -> None:
        self.process.stdin.write(f"{verb} {provider_id}\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "ok":
            sys.exit(f"bench/edits.py could not {verb} {provider_id}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _seconds_until(count: int) -> float:
    """From now until the results pages find `count` results, every one since: the start of
    the first of SEEN_IN_A_ROW pages in a row that do (each on a new connection, so that
    any worker may answer)."""
    started, since, in_a_row = time.monotonic(), None, 0
    while in_a_row < SEEN_IN_A_ROW:
        asked = time.monotonic()
        if asked - started > 120:
            return float("inf")
        found = results_found(get(EDITED_SEARCH)[1])
        if found == count:
            since = since if in_a_row else asked
            in_a_row += 1
        else:
            in_a_row = 0
    return since - started


def worker_rss_mb(server: subprocess.Popen) -> list[float]:
    workers = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    sizes = []
    for pid in workers:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return [round(size, 1) for size in sizes]


def edits_measured(url: str, server: subprocess.Popen) -> dict:
    """How long an unpublishing takes to leave the results of every worker (and a
    publishing to come back) while wrk loads the site, and the workers' memory before
    and after 1,000 edits."""
    edit = Editor(url)
    listed = results_found(get(EDITED_SEARCH)[1])
    near = sql(
        url,
        "SELECT DISTINCT p.id FROM services_provider p JOIN services_location l"
        " ON l.provider_id = p.id WHERE p.status = 'published' AND l.town = 'Leeds'"
        f" ORDER BY p.id LIMIT {EDITS_TIMED // 2}",
    )
    paths = [path for _name, path in SEARCHES if path != "PROFILE"]
    stop = threading.Event()

    def load() -> None:
        # Two connections fewer than the workers take (gunicorn.conf.py's worker
        # connections): the two left are for the pages that look for the edit.
        while not stop.is_set():
            wrk_throughput(paths, seconds=3, connections=CONNECTIONS - 2)

    loading = threading.Thread(target=load)
    loading.start()
    seconds = []
    processes = server_processes(server, url)
    try:
        for (provider_id,) in near:
            for verb, count in (("unpublish", listed - 1), ("publish", listed)):
                edit(verb, provider_id)
                seconds.append(_seconds_until(count))
    finally:
        stop.set()
        loading.join()
    # The CPU an edit costs the workers: a few edits with no other load.
    idle = {pid: cpu_seconds(pid) for pid in processes}
    quiet = sql(
        url,
        f"SELECT id FROM services_provider WHERE status = 'published' ORDER BY id LIMIT {EDITS_TIMED}",
    )
    for (provider_id,) in quiet:
        edit("accepting", provider_id)
        time.sleep(1)
    spent = sum(cpu_seconds(pid) - idle[pid] for pid in processes)
    # Less the followers' looks at the log meanwhile, which cost the same without edits.
    time.sleep(len(quiet))
    looking = sum(cpu_seconds(pid) - idle[pid] for pid in processes) - spent
    workers = len(worker_rss_mb(server))
    cpu_per_edit_ms = round(max(spent - looking, 0) / len(quiet) / workers * 1000, 1)
    rss_before = worker_rss_mb(server)
    others = sql(
        url,
        "SELECT id FROM services_provider WHERE status = 'published'"
        f" ORDER BY id DESC LIMIT {EDITS_FOR_MEMORY}",
    )
    for (provider_id,) in others:
        edit("accepting", provider_id)
    edit.close()
    time.sleep(10)  # the last applies, and any merge
    for _ in range(50):
        get(EDITED_SEARCH)  # every worker answers from its index as it now is
    rss_after = worker_rss_mb(server)
    return {
        "visible_p50_s": round(percentile(seconds, 50), 2),
        "visible_max_s": round(max(seconds), 2),
        "edits_timed": len(seconds),
        "cpu_per_edit_per_worker_ms": cpu_per_edit_ms,
        "worker_rss_mb_before": rss_before,
        "worker_rss_mb_after_edits": rss_after,
        "edits_for_memory": len(others),
    }


def count_queries(env: dict, paths: list[str]) -> dict:
    """Queries per page, counted in-process with the same settings and database."""
    script = (
        "import json, sys, django; django.setup()\n"
        "from django.db import connection\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        "client, counts = Client(), {}\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    client.get(path)\n"
        "    with CaptureQueriesContext(connection) as queries:\n"
        "        client.get(path)\n"
        "    counts[path] = len(queries)\n"
        "print(json.dumps(counts))\n"
    )
    env = dict(env, DJANGO_SETTINGS_MODULE="therapy_directory.settings")
    out = subprocess.run(
        [PYTHON, "-c", script, json.dumps(paths)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def relevance(env: dict) -> dict:
    """The relevance set (tests/relevance/searches.py) on this database, in-process with the
    same settings: {"met", "total", "misses": {search: what it missed}}."""
    env = dict(env, DJANGO_SETTINGS_MODULE="therapy_directory.settings")
    out = subprocess.run(
        [PYTHON, "-m", "tests.relevance.run"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


MEDIA_URL = "/media/"
PHOTO_SEARCH = "/find/?q=grief&near=Leeds"


def page_weight(path: str, media_root: str | None = None) -> dict:
    """The whole page: HTML and every asset it loads, gzipped as served, and their origins.

    Providers' photos (under /media/) are counted apart, as `photos` and `photo_bytes`, and
    not in `requests`: they load lazily, as the cards come into view. In production a web
    server or an S3-compatible store serves them, not gunicorn, so with `media_root` each
    counts as the size of its file there (a WebP file, which no server compresses again).
    """
    status, body, *_ = get(path)
    html = body.decode()
    assets = re.findall(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"', html)
    assets = [a for a in assets if not a.startswith(("#", "data:")) and "canonical" not in a]
    photos = [a for a in assets if a.startswith(MEDIA_URL)]
    assets = [a for a in assets if a not in photos]
    third_party = [
        a for a in assets if urllib.parse.urlsplit(a).netloc not in ("", f"127.0.0.1:{PORT}")
    ]
    total = len(gzip.compress(body, 6))
    for asset in assets:
        if urllib.parse.urlsplit(asset).netloc:
            continue
        _status, asset_body, *_rest, headers = get(asset, gzip_ok=True)
        total += len(asset_body)
    photo_bytes = 0
    for photo in photos:
        if media_root is not None:
            photo_bytes += (Path(media_root) / photo.removeprefix(MEDIA_URL)).stat().st_size
        else:
            photo_bytes += len(get(photo)[1])
    return {
        "requests": 1 + len(assets),
        "total_gzip_bytes": total + photo_bytes,
        "third_party": third_party,
        "photos": len(photos),
        "photo_bytes": photo_bytes,
    }


def photo_page_weight(url: str, path: str = PHOTO_SEARCH) -> dict:
    """The results page's weight once each of its 20 listings has a photo, uploaded as a
    provider would (bench/photos.py: a real portrait, checked and resized by
    services/photos.py); the photos are taken off again after, leaving the database as it was."""
    html = get(path)[1].decode()
    ids = re.findall(r'<h3 id="provider-(\d+)">', html)
    with tempfile.TemporaryDirectory() as media_root:
        env = dict(os.environ, DATABASE_URL=url, DJANGO_DEBUG="true", DJANGO_MEDIA_ROOT=media_root)

        def photos(verb: str) -> dict:
            out = subprocess.run(
                [PYTHON, "bench/photos.py", verb, *ids],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            return json.loads(out.stdout.strip().splitlines()[-1])

        sizes = photos("add")
        try:
            weight = page_weight(path, media_root)
        finally:
            photos("remove")
    cards = sizes["card_bytes"] or [0]
    return {
        "path": path,
        **weight,
        "card_photo_bytes_mean": round(sum(cards) / len(cards)),
        "profile_photo_bytes_mean": round(
            sum(sizes["profile_bytes"]) / max(1, len(sizes["profile_bytes"]))
        ),
    }


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user and system), from /proc; 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_processes(server: subprocess.Popen, url: str) -> list[int]:
    """gunicorn's workers and the PostgreSQL backends serving the bench database."""
    workers = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    backends = sql(
        url,
        f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    return [int(pid) for pid in workers] + [row[0] for row in backends]


def wrk_measured(paths: list[str], server: subprocess.Popen, url: str) -> tuple[float, float]:
    """(requests per second, milliseconds of server CPU per request): the CPU the workers
    and their database connections spent, which varies far less from run to run than the
    rate does on a small machine."""
    processes = server_processes(server, url)
    before = {pid: cpu_seconds(pid) for pid in processes}
    rps = wrk_throughput(paths)
    processes = set(processes) | set(server_processes(server, url))
    spent = sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in processes)
    return rps, round(spent / (rps * THROUGHPUT_SECONDS) * 1000, 2)


def throughput(server: subprocess.Popen, url: str) -> dict:
    """The results pages' rate and CPU against /healthz's, measured one after the other."""
    results_rps, results_cpu = wrk_measured(throughput_paths(), server, url)
    trivial_rps, trivial_cpu = wrk_measured(["/healthz"], server, url)
    return {
        "results_rps": results_rps,
        "trivial_rps": trivial_rps,
        "ratio": round(results_rps / trivial_rps, 3),
        "results_cpu_ms": results_cpu,
        "trivial_cpu_ms": trivial_cpu,
        "cpu_ratio": round(trivial_cpu / results_cpu, 3),
    }


def wrk_throughput(
    paths: list[str], seconds: int = THROUGHPUT_SECONDS, connections: int = CONNECTIONS
) -> float:
    """Requests per second at CONNECTIONS connections, cycling through the paths."""
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the throughput run: apt-get install wrk (make bench does this)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n")
        script.write(
            "i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        )
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout):
        log(out.stdout)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))


def measured_apart(script: str, url: str) -> dict:
    """The figures a measuring script prints as its last line (JSON), run in its own process
    against the benchmark's database."""
    done = subprocess.run(
        [PYTHON, script],
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=url, DJANGO_DEBUG="true"),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(scale: str) -> dict:
    url = database_url(scale)
    seed_seconds = fill(url, SCALES[scale])
    profile = sql(
        url, "SELECT slug FROM services_provider WHERE status = 'published' ORDER BY id LIMIT 1"
    )[0][0]
    searches = [
        (name, f"/providers/{profile}/" if path == "PROFILE" else path) for name, path in SEARCHES
    ]
    log("A 5,000-row CSV import, listings then services (rolled back)...")
    csv_import = measured_apart("bench/csv_import.py", url)
    log("keep_listings_current: reminders, lapses, chased enquiries (rolled back)...")
    upkeep = measured_apart("bench/upkeep.py", url)
    log(f"  {upkeep}")
    with serving(url) as (env, server):
        results = {}
        for name, path in searches:
            results[name] = {"path": path, **measure_latency(path)}
            log(
                f"  {name:40} p50 {results[name]['p50']:6.1f} ms  p95 {results[name]['p95']:6.1f} ms"
            )
        queries = count_queries(env, [path for _name, path in searches])
        for name, path in searches:
            results[name]["queries"] = queries[path]
        log("The relevance set...")
        relevant = relevance(env)
        log(f"  {relevant['met']}/{relevant['total']} searches met")
        weight = page_weight(PHOTO_SEARCH)
        log("The results page with a photo on each card...")
        with_photos = photo_page_weight(url)
        log(
            f"  {with_photos['total_gzip_bytes']:,} bytes, of which {with_photos['photos']}"
            f" photos {with_photos['photo_bytes']:,}"
        )
        log("Throughput (wrk, 8 connections)...")
        rates = throughput(server, url)
        log("Edits: how soon each worker shows them, and memory after many...")
        edits = edits_measured(url, server)
        log(f"  {edits}")
    return {
        "scale": scale,
        "providers": SCALES[scale],
        "seed_seconds": round(seed_seconds, 1) if seed_seconds else None,
        "searches": results,
        "throughput": rates,
        "results_page_weight": weight,
        "results_page_with_photos": with_photos,
        "csv_import": csv_import,
        "upkeep": upkeep,
        "edits": edits,
        "relevance": relevant,
    }


# Reporting


def budgets(figures: dict) -> list[tuple[str, bool, str]]:
    """The issue's budgets, met or not."""
    searches = figures["searches"]
    checks = []
    limit = 50 if figures["scale"] == "100k" else 150
    worst = max(searches.items(), key=lambda item: item[1]["p95"])
    checks.append(
        (
            f"every search p95 <= {limit} ms",
            worst[1]["p95"] <= limit,
            f"worst: {worst[0]} {worst[1]['p95']} ms",
        )
    )
    deep, first = searches["deep page 500"]["p50"], searches["page 1 (for the deep page)"]["p50"]
    checks.append(("page 500 p50 <= 1.5 x page 1", deep <= 1.5 * first, f"{deep} ms vs {first} ms"))
    results_queries = max(v["queries"] for v in searches.values() if v["path"].startswith("/find/"))
    profile_queries = searches["profile"]["queries"]
    checks.append(("results page <= 8 queries", results_queries <= 8, str(results_queries)))
    checks.append(("profile <= 6 queries", profile_queries <= 6, str(profile_queries)))
    html = max(v["html_gzip_bytes"] for v in searches.values())
    checks.append(("gzipped HTML <= 30 KB", html <= 30 * 1024, f"{html:,} bytes"))
    weight = figures["results_page_weight"]
    checks.append(
        (
            "results page <= 150 KB over <= 10 requests",
            weight["total_gzip_bytes"] <= 150 * 1024 and weight["requests"] <= 10,
            f"{weight['total_gzip_bytes']:,} bytes, {weight['requests']} requests",
        )
    )
    checks.append(
        (
            "no third-party origin",
            not weight["third_party"],
            ", ".join(weight["third_party"]) or "none",
        )
    )
    # A figure an older run did not measure is left out of its report.
    if "results_page_with_photos" in figures:
        photos = figures["results_page_with_photos"]
        others = photos["total_gzip_bytes"] - photos["photo_bytes"]
        checks.append(
            (
                "results page with 20 photos <= 150 KB (HTML, CSS, JS and the photos)",
                photos["photos"] == 20 and photos["total_gzip_bytes"] <= 150 * 1024,
                f"{photos['total_gzip_bytes']:,} bytes: HTML, CSS and JS {others:,},"
                f" {photos['photos']} photos {photos['photo_bytes']:,}"
                f" (a card photo {photos['card_photo_bytes_mean']:,} bytes on average,"
                f" a profile photo {photos['profile_photo_bytes_mean']:,})",
            )
        )
    if "csv_import" in figures:
        sheets = figures["csv_import"]
        slowest = max(sheets.values(), key=lambda sheet: sheet["import_seconds"])
        checks.append(
            (
                "a 5,000-row CSV import finishes within 60 s",
                slowest["import_seconds"] <= 60,
                ", ".join(
                    f"{name} {sheet['import_seconds']} s (preview {sheet['preview_seconds']} s)"
                    for name, sheet in sheets.items()
                ),
            )
        )
    if "upkeep" in figures:
        upkeep = figures["upkeep"]
        checks.append(
            (
                "keep_listings_current: an hourly run with nothing due takes <= 60 s",
                upkeep["idle_run_seconds"] <= 60 and upkeep["idle_run_did"] == 0,
                f"{upkeep['idle_run_seconds']} s; first run: {upkeep['reminders_queued']:,}"
                f" reminders queued in {upkeep['remind_seconds']} s"
                f" ({upkeep['reminders_per_minute']:,} a minute), {upkeep['listings_lapsed']:,}"
                f" listings lapsed in {upkeep['lapse_seconds']} s (their cards rebuilt),"
                f" {upkeep['enquiries_chased']} enquiries chased in {upkeep['chase_seconds']} s,"
                f" reply figures in {upkeep['reply_figures_seconds']} s",
            )
        )
    if "edits" in figures:
        edits = figures["edits"]
        checks.append(
            (
                "an edit shows in every worker within 2 s, under load",
                edits["visible_max_s"] <= 2,
                f"p50 {edits['visible_p50_s']} s, max {edits['visible_max_s']} s"
                f" over {edits['edits_timed']} edits",
            )
        )
        if figures["scale"] == "100k":
            rss = max(edits["worker_rss_mb_after_edits"])
            checks.append(
                (
                    f"each worker <= 300 MB after {edits['edits_for_memory']:,} edits",
                    rss <= 300,
                    f"{rss} MB (before them {max(edits['worker_rss_mb_before'])} MB)",
                )
            )
    if "relevance" in figures:
        relevant = figures["relevance"]
        missed = "; ".join(
            f"{name}: {', '.join(failures)}" for name, failures in relevant["misses"].items()
        )
        checks.append(
            (
                "relevance: all searches met",
                relevant["met"] == relevant["total"],
                f"{relevant['met']}/{relevant['total']} ({relevant['met'] / relevant['total']:.0%})"
                + (f"; missed {missed}" if missed else ""),
            )
        )
    statuses = {s for v in searches.values() for s in v["status"]}
    checks.append(("no server error", all(s < 500 for s in statuses), str(sorted(statuses))))
    return checks


def write_report(all_figures: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Benchmark",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; gunicorn with gunicorn.conf.py, DEBUG off, PostgreSQL on the same machine.",
        "",
    ]
    for figures in all_figures.values():
        lines += [f"## {figures['providers']:,} providers", ""]
        if figures.get("seed_seconds"):
            lines += [f"Seeded in {figures['seed_seconds']} s.", ""]
        lines += [
            "| search | results | p50 ms | p95 ms | p99 ms | queries | gzipped HTML |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, v in figures["searches"].items():
            found = "" if v.get("results") is None else f"{v['results']:,}"
            lines.append(
                f"| {name} | {found} | {v['p50']} | {v['p95']} | {v['p99']} | {v['queries']} | {v['html_gzip_bytes']:,} |"
            )
        t = figures["throughput"]
        lines += [
            "",
            f"Throughput at {CONNECTIONS} connections: results {t['results_rps']:.0f} req/s, trivial view {t['trivial_rps']:.0f} req/s, ratio {t['ratio']:.0%}.",
            f"Server CPU per request (gunicorn workers and their PostgreSQL connections): results {t['results_cpu_ms']} ms, trivial view {t['trivial_cpu_ms']} ms, ratio {t['cpu_ratio']:.0%}."
            if "cpu_ratio" in t
            else "",
            "",
            "| budget | met | figure |",
            "|---|---|---|",
        ]
        lines += [
            f"| {name} | {'yes' if ok else '**no**'} | {detail} |"
            for name, ok, detail in budgets(figures)
        ]
        lines.append("")
    if plot(all_figures):
        lines += ["![p95 latency against scale](latency.png)", ""]
    report = RESULTS / "report.md"
    report.write_text("\n".join(lines))
    return report


def plot(all_figures: dict) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plot (pip install -e '.[bench]').")
        return False
    scales = sorted(all_figures, key=lambda s: SCALES[s])
    fig, ax = plt.subplots(figsize=(9, 6))
    for name in all_figures[scales[0]]["searches"]:
        points = [
            all_figures[s]["searches"][name]["p95"]
            for s in scales
            if name in all_figures[s]["searches"]
        ]
        ax.plot([SCALES[s] for s in scales][: len(points)], points, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("providers")
    ax.set_ylabel("p95 server latency (ms)")
    ax.set_title("Latency against scale")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(RESULTS / "latency.png", dpi=100)
    return True


def main() -> None:
    scale = os.environ.get("SCALE", "100k").lower()
    if scale not in SCALES:
        sys.exit(f"SCALE must be one of {', '.join(SCALES)}")
    if os.environ.get("BENCH_REPORT_ONLY"):
        # The report and BENCH line again from the figures kept (the run measured them).
        figures = json.loads((RESULTS / f"latest-{scale}.json").read_text())
        figures.pop("budgets", None)
    else:
        figures = run(scale)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"latest-{scale}.json").write_text(json.dumps(figures, indent=1))
    # The report and plot cover every scale measured so far (kept in latest-*.json).
    all_figures = {
        s: json.loads((RESULTS / f"latest-{s}.json").read_text())
        for s in SCALES
        if (RESULTS / f"latest-{s}.json").exists()
    }
    report = write_report(all_figures)
    checked = budgets(figures)
    for name, ok, detail in checked:
        log(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    log(f"Report: {report.relative_to(ROOT)}")
    figures["budgets"] = [
        {"budget": name, "met": ok, "figure": detail} for name, ok, detail in checked
    ]
    print("BENCH " + json.dumps(figures, separators=(",", ":")))


if __name__ == "__main__":
    main()
