"""gunicorn settings for production and for `make bench` (the same file, so the figures are honest)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One worker per core: a results page is mostly Python (the in-memory listing index
# and the template), so more processes than cores would only take turns; each also
# holds its own copy of the index once it rebuilds after an edit.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
# Two threads per worker: the second overlaps the short database waits (two queries a
# results page) and keeps one slow page from holding up every connection of its worker.
# More threads only take turns at Python's lock: measured on the 2-core machine at
# 100,000 listings (8 connections, the benchmark's mix of results pages), 2 workers gave
# 157-171 results pages/s with 1 thread, 161 with 2 and 137-142 with 4, and the server
# time of a page rose with every thread (p50 of a distance search 20, 35 and 73 ms).
# Each thread takes a connection from the worker's psycopg pool (DJANGO_DB_POOL_MAX, 8).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Reuse connections from a proxy or load generator; a slow client cannot hold a thread long.
keepalive = 5
# How many connections a worker holds at once (gunicorn's default, 1000, unless set). A
# worker keeps a keep-alive connection for as long as it lasts, so a load generator's few
# connections can all land on one worker and leave the other idle: measured with wrk's 8
# connections to /healthz, split 8/0 gave 1,390 requests a second and 6/2 gave 2,924. The
# benchmark sets this to its connections per worker, so they are split evenly. Behind a
# proxy that opens a connection per request (nginx's default) it does not matter.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = 30
graceful_timeout = 10
# The app is imported once in the master and forked: faster start, shared memory. The
# listing index is built there too (when_ready), so every worker starts with it.
preload_app = True
# Access logs would pair search terms with client addresses; the proxy decides what to log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")


def on_starting(server):
    # gunicorn's error log names the request it could not parse or answer ("Invalid HTTP
    # request line: 'GET /find/?q=... HTTP/1.1'"): the same filter as Django's loggers
    # keeps the search out. Workers are forked after this, and a reload keeps it.
    import logging

    from services.log_filters import WithoutQueryString

    logging.getLogger("gunicorn.error").addFilter(WithoutQueryString())


def when_ready(server):
    from services.search import listing_index

    listing_index.warm()


def post_fork(server, worker):
    # A connection pool opened in the master must not be shared by forked workers.
    from django.db import connections

    for connection in connections.all():
        connection.close()
