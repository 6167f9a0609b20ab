"""A criterion declared only here, to show that a declaration is all a criterion needs."""

from services.search.criteria import Attribute, Flag, Level

CRITERIA = [
    Flag(
        "free_consultation",
        "Free first conversation",
        Level.PROVIDER,
        "free first conversation",
        # The site publishes this field as an HSDS attribute already; declared here, the
        # term takes its name from the criterion.
        hsds=Attribute(
            "free-first-consultation",
            "offers_free_consultation",
            "The first conversation costs nothing.",
        ),
    )
]
