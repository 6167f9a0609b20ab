"""The "editor" staff role: edits and verifies listings and moderates what the public sends
in. Publishing, archiving, users, groups and the vocabularies' wording stay with
administrators (superusers, or a group an administrator makes with those permissions)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_GROUP = "editor"

EDITOR_PERMISSIONS = [
    # Listings and what is edited inline with them.
    *(
        f"{action}_{model}"
        for model in ("provider", "qualification", "location", "service")
        for action in ("add", "change", "delete", "view")
    ),
    "verify_provider",
    # Vocabularies are chosen from, not edited.
    *(
        f"view_{model}"
        for model in (
            "supporttype",
            "approach",
            "concern",
            "language",
            "community",
            "agegroup",
            "gender",
        )
    ),
    # Moderation: approve or reject recommendations (not delete them), close reports,
    # read enquiries (and retry their sending).
    "view_recommendation",
    "change_recommendation",
    "view_report",
    "change_report",
    "view_enquiry",
    "change_enquiry",
    "view_listingforreview",
]


def add_editor_group(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now to assign them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=EDITOR_GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label="services", codename__in=EDITOR_PERMISSIONS
    )
    missing = set(EDITOR_PERMISSIONS) - set(permissions.values_list("codename", flat=True))
    if missing:
        raise RuntimeError(f"permissions not found: {sorted(missing)}")
    group.permissions.set(permissions)


def remove_editor_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=EDITOR_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0014_shared_cache_table"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_editor_group, remove_editor_group)]
