"""The listing list's CSV pages in the admin: export (listings, or their services), import
with a preview, and the progress of an import the worker is running."""

import base64
import binascii

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone

from services.listing_csv import listings, service_rows
from services.listing_csv.cells import csv_lines
from services.listing_csv.imports import SHEETS, csv_import_queue, file_check
from services.models import CsvImport

MAX_BYTES = 2_000_000  # under DATA_UPLOAD_MAX_MEMORY_SIZE: the preview posts the file back
PREVIEW_ROWS = 500  # rows of changes shown; the rest are counted


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
    file = forms.FileField(label="CSV file", help_text="UTF-8, up to 2 MB (about 5,000 rows).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError("The file is over 2 MB: split it into smaller files.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8”.") from None


class ProviderCsvAdminMixin:
    """Adds "Export CSV" (the list as filtered, its listings or their services) and
    "Import CSV" (with a preview, run by the background worker) to ProviderAdmin."""

    change_list_template = "admin/services/provider/change_list.html"

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("export-csv/", view(self.export_csv_view), name=f"{prefix}_export_csv"),
            path(
                "export-services-csv/",
                view(self.export_services_csv_view),
                name=f"{prefix}_export_services_csv",
            ),
            path("import-csv/", view(self.import_csv_view), name=f"{prefix}_import_csv"),
            path(
                "import-csv/<int:import_id>/",
                view(self.import_progress_view),
                name=f"{prefix}_import_progress",
            ),
            *super().get_urls(),
        ]

    def _export(self, request, sheet):
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        response = StreamingHttpResponse(
            csv_lines([name for name, _help in sheet.COLUMNS], sheet.rows(queryset)),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        response["Content-Disposition"] = f'attachment; filename="{sheet.NAME}-{stamp}.csv"'
        return response

    def export_csv_view(self, request):
        return self._export(request, listings)

    def export_services_csv_view(self, request):
        return self._export(request, service_rows)

    def _may_import(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied

    def import_csv_view(self, request):
        self._may_import(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import listings from a CSV file",
            "sheets": SHEETS.values(),
            "form": CsvUploadForm(),
        }
        template = "admin/services/provider/import_csv.html"
        if request.method != "POST":
            return render(request, template, context)
        if "confirm" in request.POST:
            text = _unpack(request.POST.get("content", ""))
            if text:
                record = csv_import_queue(text=text, by=request.user)
                return redirect(f"admin:{self.opts.app_label}_provider_import_progress", record.pk)
            context["form"] = CsvUploadForm()
            return render(request, template, {**context, "lost": True}, status=400)
        form = CsvUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, template, {**context, "form": form}, status=400)
        text = form.cleaned_data["file"]
        check = file_check(text)
        changed = check.changed
        return render(
            request,
            template,
            {
                **context,
                "check": check,
                "changed": changed[:PREVIEW_ROWS],
                "not_shown": max(0, len(changed) - PREVIEW_ROWS),
                "content": _pack(text),
                "unchanged": len(check.plans) - len(changed),
                "title": "Check the import" if check.ok else "The file has problems",
            },
            status=200 if check.ok else 400,
        )

    def import_progress_view(self, request, import_id):
        self._may_import(request)
        record = get_object_or_404(CsvImport, pk=import_id)
        return render(
            request,
            "admin/services/provider/import_progress.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Import: {record.get_state_display().lower()}",
                "record": record,
                "percent": int(100 * record.rows_checked / record.rows_total)
                if record.rows_total
                else 0,
            },
        )
