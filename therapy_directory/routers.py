"""With DATABASE_REPLICA_URL: the public listings are read from a streaming replica.

Every write goes to the primary ("default"), and so does every read that must see a
write a person has just made: anything in a transaction, every request that is not a
GET or HEAD, the admin, and every model that is not a public listing (sessions, so the
shortlist; the enquiries, reports and recommendations people send; users).
"""

from contextvars import ContextVar

from django.db import connections

# The models of the public listings: what the results, profiles and the listing index read.
LISTING_MODELS = frozenset(
    {
        "provider",
        "service",
        "location",
        "qualification",
        "serviceatlocation",
        "supporttype",
        "approach",
        "concern",
        "language",
        "community",
        "agegroup",
        "gender",
        "searchword",
        "searchsynonym",
        "gazetteerplace",
        "listingchange",
        "listingsversion",
        "provider_languages",
        "provider_communities",
        "service_concerns",
        "service_approaches",
        "service_age_groups",
        "service_locations",
    }
)

_primary_only = ContextVar("primary_only", default=False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        meta = model._meta
        if (
            meta.app_label == "services"
            and meta.model_name in LISTING_MODELS
            and not _primary_only.get()
            and not connections["default"].in_atomic_block
        ):
            return "replica"
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is the same database, a moment behind

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class PrimaryForOwnWrites:
    """Middleware: a request that writes, and the admin, read only from the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        writes = request.method not in ("GET", "HEAD") or request.path.startswith("/admin/")
        token = _primary_only.set(writes)
        try:
            return self.get_response(request)
        finally:
            _primary_only.reset(token)
