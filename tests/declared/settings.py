"""The site's settings with one more search criterion, declared in tests/declared/criteria.py."""

from therapy_directory.settings import *  # noqa: F403

SEARCH_CRITERIA_MODULES = ["tests.declared.criteria"]
