"""gunicorn settings for production and for `make bench` (the same file, so the figures are honest)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One worker per core: a results page is mostly Python (the in-memory listing index
# and the template), so more processes than cores would only take turns; each also
# holds its own copy of the index once it rebuilds after an edit.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
# A few threads per worker overlap the short database waits (three or four queries a
# page) and keep a slow page from holding up the next; each thread takes a connection
# from the worker's psycopg pool (DJANGO_DB_POOL_MAX, default 8).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Reuse connections from a proxy or load generator; a slow client cannot hold a thread long.
keepalive = 5
timeout = 30
graceful_timeout = 10
# The app is imported once in the master and forked: faster start, shared memory. The
# listing index is built there too (when_ready), so every worker starts with it.
preload_app = True
# Access logs would pair search terms with client addresses; the proxy decides what to log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")


def when_ready(server):
    from services import facet_index

    facet_index.warm()


def post_fork(server, worker):
    # A connection pool opened in the master must not be shared by forked workers.
    from django.db import connections

    for connection in connections.all():
        connection.close()
