"""Saving a provider's own edit: under the listing's version lock, in the same change history
as staff edits, and on the results within seconds (the listing index follows the change log)."""

from contextlib import contextmanager

import reversion
from django.db import transaction

from services.indexing import search_index_update
from services.models import Provider


class EditConflict(Exception):
    """Someone saved the listing after this form was opened; nothing was saved."""


@contextmanager
def listing_edit(*, provider_id: int, by, comment: str, opened_at_version: int | None = None):
    """Lock the listing and hand it over for changes; when the block ends, save it with one
    more edit version, as one revision (its qualifications, places and services with it),
    and rebuild its search text and card.

    With `opened_at_version`, a listing saved by someone else since then raises EditConflict
    before anything is changed, as the admin's form does.
    """
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider_id)
        if opened_at_version is not None and provider.edit_version != opened_at_version:
            raise EditConflict
        with reversion.create_revision():
            yield provider
            provider.edit_version += 1
            provider.save()
            reversion.set_user(by)
            reversion.set_comment(comment)
        search_index_update([provider.pk])
