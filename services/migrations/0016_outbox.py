"""The outbox: every email the site sends is stored, then sent by the background worker.
An enquiry's delivery (state, tries, errors) moves to its email in the outbox."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Editors read enquiries and retry their sending (0015); now that is the outbox's.
EDITOR_PERMISSIONS_ADDED = ["view_outgoingemail", "change_outgoingemail"]
# Enquiry.delivery -> OutgoingEmail.state
STATES = {"pending": "waiting", "sent": "sent", "failed": "failed", "gave_up": "gave_up"}


def enquiries_into_the_outbox(apps, schema_editor):
    # The wording of services/enquiries.py when this migration was written: an unsent
    # enquiry must still reach its provider, with what the person wrote.
    Enquiry = apps.get_model("services", "Enquiry")
    OutgoingEmail = apps.get_model("services", "OutgoingEmail")
    for enquiry in Enquiry.objects.select_related("provider").iterator(chunk_size=500):
        to = enquiry.sent_to or enquiry.provider.email
        if not to:
            continue
        lines = [
            f"{enquiry.name} sent you this message through your listing.",
            "",
            enquiry.message,
            "",
            f"How they would like you to reply: {enquiry.preferred_contact}",
        ]
        if enquiry.email:
            lines.append(f"Email: {enquiry.email}")
        if enquiry.phone:
            lines.append(f"Phone: {enquiry.phone}")
        email = OutgoingEmail.objects.create(
            purpose="enquiry",
            to=to,
            reply_to=enquiry.email,
            subject=f"A message from {enquiry.name}"[:200],
            body="\n".join(lines),
            state=STATES[enquiry.delivery],
            attempts=enquiry.attempts,
            last_attempt_at=enquiry.last_attempt_at,
            # Due at once: the safety net (send_emails) tries it on its next run.
            next_attempt_at=enquiry.last_attempt_at if enquiry.delivery == "failed" else None,
            sent_at=enquiry.sent_at,
            last_error=enquiry.last_error,
        )
        # created_at is set on creation; keep the enquiry's.
        OutgoingEmail.objects.filter(pk=email.pk).update(created_at=enquiry.created_at)
        enquiry.email_to_provider = email
        enquiry.save(update_fields=["email_to_provider"])


def outbox_into_enquiries(apps, schema_editor):
    Enquiry = apps.get_model("services", "Enquiry")
    reverse = {value: key for key, value in STATES.items()}
    for enquiry in Enquiry.objects.exclude(email_to_provider=None).select_related(
        "email_to_provider"
    ):
        email = enquiry.email_to_provider
        enquiry.delivery = reverse[email.state]
        enquiry.attempts = email.attempts
        enquiry.last_attempt_at = email.last_attempt_at
        enquiry.sent_at = email.sent_at
        enquiry.sent_to = email.to if email.state == "sent" else ""
        enquiry.last_error = email.last_error
        enquiry.save()


def editors_see_the_outbox(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="services",
        codename__in=EDITOR_PERMISSIONS_ADDED,
    )
    for group in Group.objects.filter(name="editor"):
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0015_editor_group"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutgoingEmail",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purpose",
                    models.CharField(
                        choices=[("enquiry", "A message to a provider")], max_length=20
                    ),
                ),
                ("to", models.EmailField(max_length=254)),
                ("reply_to", models.EmailField(blank=True, max_length=254)),
                ("subject", models.CharField(max_length=200)),
                ("body", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("waiting", "Waiting to be sent"),
                            ("sent", "Sent"),
                            ("failed", "Failed; will be retried"),
                            ("gave_up", "Failed too often; not retried"),
                        ],
                        default="waiting",
                        max_length=8,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        blank=True, help_text="When a failed send is tried again.", null=True
                    ),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
            ],
            options={
                "verbose_name": "email in the outbox",
                "verbose_name_plural": "outbox",
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="enquiry",
            name="email_to_provider",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="enquiry",
                to="services.outgoingemail",
            ),
        ),
        migrations.RunPython(enquiries_into_the_outbox, outbox_into_enquiries),
        migrations.RemoveConstraint(
            model_name="enquiry",
            name="enquiry_delivery_known",
        ),
        migrations.RemoveIndex(
            model_name="enquiry",
            name="services_en_deliver_fd07f7_idx",
        ),
        migrations.RemoveField(
            model_name="enquiry",
            name="attempts",
        ),
        migrations.RemoveField(
            model_name="enquiry",
            name="delivery",
        ),
        migrations.RemoveField(
            model_name="enquiry",
            name="last_attempt_at",
        ),
        migrations.RemoveField(
            model_name="enquiry",
            name="last_error",
        ),
        migrations.RemoveField(
            model_name="enquiry",
            name="sent_at",
        ),
        migrations.RemoveField(
            model_name="enquiry",
            name="sent_to",
        ),
        migrations.AddIndex(
            model_name="outgoingemail",
            index=models.Index(
                fields=["state", "next_attempt_at"], name="services_ou_state_4cb594_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="outgoingemail",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["waiting", "sent", "failed", "gave_up"])),
                name="outgoing_email_state_known",
            ),
        ),
        migrations.RunPython(editors_see_the_outbox, migrations.RunPython.noop),
    ]
