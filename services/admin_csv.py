"""Bulk editing of providers in the admin with CSV: export the list as filtered, import with a preview.

An import is checked row by row first; the preview lists every row's changes and every
problem (row, column, message), and nothing is written unless every row is valid. The
confirming step checks the same file again and writes it in one transaction.
"""

import base64
import binascii
import csv
import datetime
import io
import uuid
from dataclasses import dataclass, field

import reversion
from django import forms
from django.contrib import messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify

from services.indexing import search_index_update
from services.models import Community, Language, Provider

# The columns, in order. Those marked "information" are exported and never imported.
COLUMNS = [
    ("id", "The listing's UUID. Leave it empty to add a listing."),
    ("name", "Required."),
    ("slug", "The web address (/providers/<slug>/). Empty: made from the name."),
    ("kind", "individual or organisation."),
    ("statement", ""),
    ("pronouns", ""),
    ("practising_since", "A year, e.g. 2009."),
    ("phone", ""),
    ("email", ""),
    ("website", "Without https:// it is taken as https."),
    ("accepting_new_clients", "yes or no."),
    ("accepting_confirmed_on", "YYYY-MM-DD."),
    ("offers_free_consultation", "yes or no."),
    ("languages", "Slugs separated by ; (e.g. english;polish)."),
    ("communities", "Slugs separated by ;."),
    ("status", "Information: publish with the list's actions."),
    ("last_verified", "Information."),
]
IMPORTED = [name for name, help_text in COLUMNS if not help_text.startswith("Information")]
FIELD_COLUMNS = [name for name in IMPORTED if name not in ("id", "languages", "communities")]
MAX_BYTES = 2_000_000  # under DATA_UPLOAD_MAX_MEMORY_SIZE: the preview posts the file back
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}
EXPORT_CHUNK = 2000


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def provider_row(provider: Provider) -> list[str]:
    return [
        str(provider.uuid),
        provider.name,
        provider.slug,
        provider.kind,
        provider.statement,
        provider.pronouns,
        str(provider.practising_since or ""),
        provider.phone,
        provider.email,
        provider.website,
        _yes_no(provider.accepting_new_clients),
        provider.accepting_confirmed_on.isoformat() if provider.accepting_confirmed_on else "",
        _yes_no(provider.offers_free_consultation),
        ";".join(sorted(t.slug for t in provider.languages.all())),
        ";".join(sorted(t.slug for t in provider.communities.all())),
        provider.status,
        provider.last_verified.isoformat() if provider.last_verified else "",
    ]


class _Echo:
    def write(self, value):
        return value


def providers_csv(queryset):
    """The CSV lines of these providers, a chunk at a time (a fixed number of queries per chunk)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(
        [name for name, _help in COLUMNS]
    )  # BOM: spreadsheets read UTF-8
    for provider in queryset.prefetch_related("languages", "communities").iterator(
        chunk_size=EXPORT_CHUNK
    ):
        yield writer.writerow(provider_row(provider))


# --------------------------------------------------------------------------- checking an import


@dataclass
class RowProblem:
    row: int  # the line in the file (the header is line 1)
    column: str
    message: str


@dataclass
class RowPlan:
    row: int
    provider: Provider
    is_new: bool
    changes: list[str]
    languages: list | None = None
    communities: list | None = None


@dataclass
class CsvCheck:
    plans: list[RowPlan] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.plans)

    @property
    def changed(self) -> list[RowPlan]:
        return [plan for plan in self.plans if plan.is_new or plan.changes]


def providers_csv_check(text: str) -> CsvCheck:
    """Read a providers CSV and check every row, writing nothing."""
    check = CsvCheck()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if "name" not in header:
        check.problems.append(
            RowProblem(1, "", "The first line must name the columns, with at least “name”.")
        )
        return check
    unknown = [h for h in header if h not in dict(COLUMNS)]
    if unknown:
        check.problems.append(
            RowProblem(1, ", ".join(unknown), "Unknown column; the columns are listed below.")
        )
        return check
    rows = list(reader)
    ids = [_uuid((r.get("id") or "").strip()) for r in rows]
    existing = {
        p.uuid: p
        for p in Provider.objects.filter(uuid__in=[i for i in ids if i]).prefetch_related(
            "languages", "communities"
        )
    }
    languages = {t.slug: t for t in Language.objects.all()}
    communities = {t.slug: t for t in Community.objects.all()}
    taken = set(Provider.objects.values_list("slug", flat=True))
    seen_ids, seen_slugs = set(), set()
    for n, (row, provider_id) in enumerate(zip(rows, ids, strict=True), start=2):
        if None in row:
            check.problems.append(
                RowProblem(n, "", "This row has more cells than there are columns.")
            )
            continue
        values = {key: (value or "").strip() for key, value in row.items()}
        raw_id = values.get("id", "")
        if raw_id and provider_id is None:
            check.problems.append(RowProblem(n, "id", f"“{raw_id}” is not a listing id (a UUID)."))
            continue
        if provider_id and provider_id not in existing:
            check.problems.append(
                RowProblem(n, "id", "There is no listing with this id; leave it empty to add one.")
            )
            continue
        if provider_id is not None and provider_id in seen_ids:
            check.problems.append(RowProblem(n, "id", "This listing is in the file twice."))
            continue
        seen_ids.add(provider_id)
        plan = _row_plan(
            n, values, existing.get(provider_id), languages, communities, taken, seen_slugs, check
        )
        if plan is not None:
            check.plans.append(plan)
    if not rows:
        check.problems.append(RowProblem(1, "", "The file has no rows under its header."))
    return check


def _row_plan(
    n, values, existing, languages, communities, taken, seen_slugs, check
) -> RowPlan | None:
    problems_before = len(check.problems)

    def problem(column, message):
        check.problems.append(RowProblem(n, column, message))

    provider = Provider() if existing is None else _copy(existing)
    before = {name: getattr(provider, name) for name in IMPORTED if name in FIELD_COLUMNS}
    present = set(values)

    def text(name):
        if name in present:
            setattr(provider, name, values[name])

    for name in ("name", "statement", "pronouns", "phone", "email"):
        text(name)
    if "website" in present:
        website = values["website"]
        if website and "://" not in website:
            website = f"https://{website}"
        try:
            if website:
                URLValidator()(website)
            provider.website = website
        except ValidationError:
            problem("website", "Enter a web address, e.g. https://example.org.")
    if "kind" in present:
        kind = values["kind"].lower() or Provider.Kind.INDIVIDUAL
        if kind not in Provider.Kind.values:
            problem("kind", "Write individual or organisation.")
        else:
            provider.kind = kind
    for name in ("accepting_new_clients", "offers_free_consultation"):
        if name in present:
            value = values[name].lower()
            if value not in YES | NO:
                problem(name, "Write yes or no.")
            elif value or existing is None:
                setattr(provider, name, value in YES)
    if "practising_since" in present:
        year = values["practising_since"]
        if year and not year.isdigit():
            problem("practising_since", "Write a year, e.g. 2009.")
        else:
            provider.practising_since = int(year) if year else None
    if "accepting_confirmed_on" in present:
        day = values["accepting_confirmed_on"]
        try:
            provider.accepting_confirmed_on = datetime.date.fromisoformat(day) if day else None
        except ValueError:
            problem("accepting_confirmed_on", "Write a date as YYYY-MM-DD.")
    slug = values.get("slug", "")
    if slug:
        if slug != slugify(slug):
            problem("slug", "Use lower-case letters, numbers and hyphens.")
        elif (slug in taken and (existing is None or existing.slug != slug)) or slug in seen_slugs:
            problem("slug", "Another listing has this web address.")
        provider.slug = slug
    elif existing is None:
        provider.slug = _free_slug(values.get("name", ""), taken | seen_slugs)
    seen_slugs.add(provider.slug)
    terms = {}
    for column, vocabulary in (("languages", languages), ("communities", communities)):
        if column not in present:
            continue
        slugs = [s.strip() for s in values[column].split(";") if s.strip()]
        unknown = [s for s in slugs if s not in vocabulary]
        if unknown:
            problem(column, f"Not in the list: {', '.join(unknown)}.")
        terms[column] = [vocabulary[s] for s in slugs if s in vocabulary]
    try:
        # Uniqueness of slugs is checked above, against the directory and the file at once.
        provider.full_clean(exclude=["gender"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages_ in error.message_dict.items():
            column = name if name in dict(COLUMNS) else ""
            for message in messages_:
                problem(column, message)
    if len(check.problems) > problems_before:
        return None
    changes = [
        name
        for name, old in before.items()
        if existing is not None and getattr(provider, name) != old
    ]
    for column, chosen in terms.items():
        if existing is not None and {t.pk for t in chosen} != {
            t.pk for t in getattr(existing, column).all()
        }:
            changes.append(column)
    return RowPlan(
        row=n,
        provider=provider,
        is_new=existing is None,
        changes=changes,
        languages=terms.get("languages"),
        communities=terms.get("communities"),
    )


def _copy(provider: Provider) -> Provider:
    """A separate instance of a saved listing, to change without touching the original."""
    fields = [f.attname for f in Provider._meta.concrete_fields]
    return Provider.from_db(provider._state.db, fields, [getattr(provider, f) for f in fields])


def _free_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:200] or "listing"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@transaction.atomic
def providers_csv_import(*, text: str, by) -> CsvCheck:
    """Check the file again and, if every row is valid, write it: new listings as drafts."""
    check = providers_csv_check(text)
    if not check.ok:
        return check
    for plan in check.changed:
        provider = plan.provider
        comment = "Imported from a CSV file." + (
            "" if plan.is_new else f" Changed: {', '.join(plan.changes)}."
        )
        # One version per listing, as an edit in the admin makes, so each history says what changed.
        with reversion.create_revision():
            reversion.set_user(by)
            reversion.set_comment(comment)
            if plan.is_new:
                provider.status = Provider.Status.DRAFT
            provider.save()
            if plan.languages is not None:
                provider.languages.set(plan.languages)
            if plan.communities is not None:
                provider.communities.set(plan.communities)
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[provider],
            action_flag=ADDITION if plan.is_new else CHANGE,
            change_message=comment,
            single_object=True,
        )
    search_index_update([plan.provider.pk for plan in check.changed])
    return check


# --------------------------------------------------------------------------- admin views


def _pack(text: str) -> str:
    # Base64, because a browser posts a form's line breaks back as CRLF, which would
    # change the text of a cell that holds a line break.
    return base64.b64encode(text.encode()).decode()


def _unpack(packed: str) -> str:
    try:
        return base64.b64decode(packed, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, up to 2 MB (about 5,000 listings).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError("The file is over 2 MB: split it into smaller files.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8”.") from None


class ProviderCsvAdminMixin:
    """Adds "Export CSV" (the list as filtered) and "Import CSV" (with a preview) to ProviderAdmin."""

    change_list_template = "admin/services/provider/change_list.html"

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "export-csv/",
                self.admin_site.admin_view(self.export_csv_view),
                name=f"{prefix}_export_csv",
            ),
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv_view),
                name=f"{prefix}_import_csv",
            ),
            *super().get_urls(),
        ]

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        response = StreamingHttpResponse(
            providers_csv(queryset), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        response["Content-Disposition"] = f'attachment; filename="listings-{stamp}.csv"'
        return response

    def import_csv_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import listings from a CSV file",
            "columns": COLUMNS,
        }
        if request.method == "POST" and "confirm" in request.POST:
            text = _unpack(request.POST.get("content", ""))
            check = providers_csv_import(text=text, by=request.user)
            if check.ok:
                added = sum(plan.is_new for plan in check.changed)
                self.message_user(
                    request,
                    f"Imported: {added:,} listings added (as drafts), {len(check.changed) - added:,} changed.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:services_provider_changelist"))
            form = CsvUploadForm()
        elif request.method == "POST":
            form = CsvUploadForm(request.POST, request.FILES)
            if not form.is_valid():
                return render(
                    request, "admin/services/provider/import_csv.html", {**context, "form": form}
                )
            text = form.cleaned_data["file"]
            check = providers_csv_check(text)
        else:
            return render(
                request,
                "admin/services/provider/import_csv.html",
                {**context, "form": CsvUploadForm()},
            )
        return render(
            request,
            "admin/services/provider/import_csv.html",
            {
                **context,
                "form": form,
                "check": check,
                "content": _pack(text),
                "unchanged": len(check.plans) - len(check.changed),
                "title": "Check the import" if check.ok else "The file has problems",
            },
        )
