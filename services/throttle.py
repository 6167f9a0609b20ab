"""How many forms one client address may send: a count per address and form, shared by every
worker: in Redis when the shared cache is Redis (REDIS_URL), else in the database.

Counting and deciding are one atomic step, which adds the form and answers with the new
count: forms sent at the same moment each get their own number, so no more than
FORM_RATE_LIMIT get through (reading the count and adding to it later let twenty forms sent
at once all read 4, and seven of them passed a limit of five). Neither store's own cache
operations do that: Django's database cache adds one by reading and writing again, and its
Redis incr() asks whether the key exists first, so a window ending in between leaves a
count that never ends.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction

from services.client_address import client_address
from services.models import FormsSent

logger = logging.getLogger(__name__)


def _sender(scope: str, who: str) -> str:
    # Who sent it is kept only as a keyed hash: no count holds who sent what.
    digest = hashlib.blake2b(
        who.encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16
    ).hexdigest()
    return f"{scope}:{digest}"


def form_rate_allows(request, scope: str) -> bool:
    """Count one form of this kind sent from this address, and whether it is within
    FORM_RATE_LIMIT of its window (FORM_RATE_WINDOW_SECONDS from the first). A form refused
    counts too, but cannot lengthen the wait: the window ends when it was going to."""
    return _allows(_sender(scope, client_address(request) or "unknown"))


def email_rate_allows(scope: str, email: str) -> bool:
    """The same count, kept per email address asked about rather than per client address:
    sign-in links to one mailbox are limited wherever the requests come from."""
    return _allows(_sender(f"{scope}-email", email.strip().lower()))


def _allows(sender: str) -> bool:
    window = settings.FORM_RATE_WINDOW_SECONDS
    try:
        cache = caches["shared"]
        if isinstance(cache, RedisCache):
            sent = _count_in_redis(cache, sender, window)
        else:
            sent = _count_in_database(sender, window)
    except Exception:
        # A person trying to reach help is not refused because the count cannot be kept.
        logger.exception("The form rate limit could not be counted; this form is let through.")
        return True
    return sent <= settings.FORM_RATE_LIMIT


# INCR and EXPIRE in one script, which Redis runs whole: a count whose key has just expired
# starts again at 1 with a new window. A key without an expiry (left by an older version
# of this code) is given one rather than kept for ever.
_REDIS_COUNT = """
local sent = redis.call('INCR', KEYS[1])
if sent == 1 or redis.call('TTL', KEYS[1]) == -1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return sent
"""


def _count_in_redis(cache: RedisCache, sender: str, window: int) -> int:
    key = cache.make_and_validate_key(f"form-rate:{sender}")
    # Django's cache has no atomic "add and return the count" of its own: its client
    # (the same connection pool) runs the script.
    client = cache._cache.get_client(key, write=True)
    return int(client.eval(_REDIS_COUNT, 1, key, window))


# One statement, the same on PostgreSQL and SQLite (3.35 or newer): the first form of a
# window inserts the row, a later one adds to it, and one after the window's end starts a
# new window. PostgreSQL locks the row for the update and reads its latest count; SQLite
# has one writer at a time. SET reads the row as it was, in both.
_DATABASE_COUNT = """
INSERT INTO {table} (sender, sent, window_ends) VALUES (%s, 1, %s)
ON CONFLICT (sender) DO UPDATE SET
    sent = CASE WHEN {table}.window_ends <= %s THEN 1 ELSE {table}.sent + 1 END,
    window_ends = CASE
        WHEN {table}.window_ends <= %s THEN excluded.window_ends ELSE {table}.window_ends
    END
RETURNING sent
"""


def _count_in_database(sender: str, window: int) -> int:
    now = int(time.time())
    table = connection.ops.quote_name(FormsSent._meta.db_table)
    # Its own transaction (a savepoint inside another): a failure here leaves the rest of
    # the request's work intact, and the row lock lasts only this statement.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_DATABASE_COUNT.format(table=table), [sender, now + window, now, now])
        (sent,) = cursor.fetchone()
    if sent == 1:
        # A window began: the ones that have ended are forgotten (rows of the last
        # window's senders are all the table holds).
        FormsSent.objects.filter(window_ends__lte=now).delete()
    return sent
