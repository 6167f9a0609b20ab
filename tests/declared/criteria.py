"""A criterion declared only here, to show that a declaration is all a criterion needs."""

from django.db.models import Q

from services.search.criteria import Flag, Level

CRITERIA = [
    Flag(
        "free_consultation",
        "Free first conversation",
        Level.PROVIDER,
        "free first conversation",
        Q(offers_free_consultation=True),
    )
]
