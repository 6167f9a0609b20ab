"""Export the listings as HSDS 3.0: one JSON page of fully nested organizations, or the
tabular CSV datapackage. Both read CHUNK providers at a time, in a fixed number of queries."""

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from services.hsds import objects as out
from services.hsds import tabular
from services.hsds import vocabulary as vocab
from services.models import Provider

CHUNK = 500
Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    pass


def exported_providers(*, include_unpublished: bool):
    providers = Provider.objects.all() if include_unpublished else Provider.objects.published()
    return providers.order_by("pk")


def _chunks(providers) -> Iterator[list[Provider]]:
    """Providers with everything an organization shows, CHUNK at a time (fixed queries each)."""
    last = 0
    while True:
        ids = list(providers.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        last = ids[-1]
        yield list(
            out.with_full_provider_data(
                Provider.objects.filter(pk__in=ids), with_services=True
            ).order_by("pk")
        )


def organization_export(provider: Provider) -> dict:
    return out.organization_full(provider, services="full")


def hsds_export_json(
    stream, *, include_unpublished: bool = False, progress: Progress = quiet
) -> int:
    """Write one HSDS page of every organization, fully nested, with its services; return the count."""
    providers = exported_providers(include_unpublished=include_unpublished)
    total = providers.count()
    head = {
        "total_items": total,
        "total_pages": 1 if total else 0,
        "page_number": 1,
        "size": max(total, 1),
        "first_page": True,
        "last_page": True,
        "empty": not total,
    }
    stream.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "contents": [\n')
    done = 0
    for chunk in _chunks(providers):
        for provider in chunk:
            stream.write(
                (",\n" if done else "")
                + json.dumps(organization_export(provider), ensure_ascii=False)
            )
            done += 1
        progress(f"{done:,}/{total:,} organizations")
    stream.write("\n]}\n")
    return done


def hsds_export_tabular(
    target: Path, *, include_unpublished: bool = False, progress: Progress = quiet
) -> int:
    """Write the tabular datapackage (datapackage.json and one CSV per type) to a folder or a .zip."""
    providers = exported_providers(include_unpublished=include_unpublished)
    total = providers.count()
    files = {name: io.StringIO() for name in (tabular.table_name(kind) for kind in tabular.TYPES)}
    writers = tabular.CsvTables(files)
    everything = tabular.Tables()
    for ref in vocab.all_terms():
        everything.add("taxonomy_term", vocab.term_hsds(ref.vocabulary, ref.term, detail=True))
    writers.write(everything, keep={"taxonomy_term", "taxonomy"})
    done = 0
    for chunk in _chunks(providers):
        tables = tabular.Tables()
        for provider in chunk:
            tables.add("organization", organization_export(provider))
        writers.write(tables, keep={"taxonomy_term", "taxonomy"})
        done += len(chunk)
        progress(f"{done:,}/{total:,} organizations")
    contents = {"datapackage.json": tabular.dumps(tabular.datapackage()) + "\n"}
    contents.update({name: stream.getvalue() for name, stream in files.items()})
    if target.suffix == ".zip":
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in contents.items():
                archive.writestr(name, text)
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            (target / name).write_text(text, encoding="utf-8")
    return done
