"""The public's forms: contacting a provider, recommending one, reporting a wrong listing.

Each has a honeypot field that people never see; a form that fills it in is treated as sent
and nothing is stored (services/public_forms.py).
"""

import re
import unicodedata

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from services.models import Enquiry, Recommendation, Report

HONEYPOT = "website"


def no_control_characters(value: str) -> None:
    """Refuse invisible control characters (line breaks are fine in longer text)."""
    if any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in "\n\r\t" for c in value
    ):
        raise ValidationError("Please remove the invisible control characters from this text.")


_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def no_html(value: str) -> None:
    """Listings are plain text: a tag would be shown as typed, not as formatting."""
    if _HTML_TAG.search(value):
        raise ValidationError(
            "Please write this without HTML: tags such as <b> or <a> are not shown as formatting."
        )


def single_line(value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValidationError("Please keep this to one line.")


_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,30}$")


def phone_number(value: str) -> None:
    if value and (not _PHONE.match(value) or sum(c.isdigit() for c in value) < 6):
        raise ValidationError("Enter a phone number in digits, for example 07700 900123.")


class PublicForm(forms.ModelForm):
    """What the three forms share: the honeypot, and no control characters in any text."""

    website = forms.CharField(
        required=False,
        label="Leave this empty",
        help_text="This field is here to catch automated spam; people should leave it empty.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    single_line_fields: tuple[str, ...] = ()
    honeypot = HONEYPOT  # the template hides this field

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.RadioSelect):
                # One radio button per real choice, not one for "---------".
                field.choices = [(value, label) for value, label in field.choices if value]
            if isinstance(field, forms.CharField) and name != HONEYPOT:
                field.validators.append(no_control_characters)
                if name in self.single_line_fields:
                    field.validators.append(single_line)

    def is_spam(self) -> bool:
        """The honeypot was filled in: a bot, not a person."""
        return bool(self.cleaned_data.get(HONEYPOT))

    def submitted(self) -> dict:
        """The fields for the write function."""
        return {name: value for name, value in self.cleaned_data.items() if name != HONEYPOT}


class EnquiryForm(PublicForm):
    single_line_fields = ("name", "phone")

    class Meta:
        model = Enquiry
        fields = [
            "name",
            "email",
            "phone",
            "preferred_contact",
            "message",
            "consents_to_processing",
            "wants_follow_up",
        ]
        labels = {
            "name": "Your name",
            "email": "Your email address",
            "phone": "Your phone number",
            "preferred_contact": "How would you like them to reply?",
            "message": "Your message",
        }
        help_texts = {
            "email": (
                "Give an email address, a phone number, or both. We need an email address to "
                "send you other places to try, if you ask for that below."
            ),
            "message": (
                "A few lines are enough: what you would like help with, and when you are free. "
                "Up to 3,000 characters."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "preferred_contact": forms.RadioSelect,
            "message": forms.Textarea(attrs={"rows": 7, "maxlength": 3000}),
        }
        error_messages = {
            "name": {"required": "Tell them your name."},
            "message": {"required": "Write your message."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].validators.append(phone_number)
        # Explicit consent: a message to a therapist may say something about the person's
        # health, which UK GDPR counts as special category data.
        consent = self.fields["consents_to_processing"]
        consent.required = True
        consent.label = (
            f"I agree that {settings.SITE_NAME} keeps my message for "
            f"{settings.KEEP_ENQUIRIES_DAYS} days and sends it to this provider, though it may "
            "say something about my health."
        )
        consent.help_text = "Our privacy notice says why, and who sees it."
        consent.error_messages["required"] = (
            "We can only send your message with your agreement. Tick the box, or contact "
            "them by phone or their website instead."
        )
        follow_up = self.fields["wants_follow_up"]
        follow_up.label = (
            f"If they have not answered within {settings.REPLY_WORKING_DAYS} working days, "
            "email me other places to try."
        )
        follow_up.help_text = "Only to the email address above, and only once."

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("wants_follow_up") and not cleaned.get("email"):
            self.add_error(
                "email",
                "Give an email address for us to send other places to try, or untick that box.",
            )
        return cleaned


class RecommendationForm(PublicForm):
    single_line_fields = ("author_name", "author_role")

    consents_to_publication = forms.BooleanField(
        required=True,
        label="I agree that my name, my role and what I wrote may be shown on this profile.",
        error_messages={
            "required": "We can only show a recommendation with your agreement: tick the box."
        },
    )

    class Meta:
        model = Recommendation
        fields = [
            "relationship",
            "author_name",
            "author_role",
            "author_email",
            "text",
            "consents_to_publication",
        ]
        labels = {
            "relationship": "How do you know their work?",
            "author_name": "Your name, as it should be shown",
            "author_email": "Your email address",
            "text": "Your recommendation",
        }
        help_texts = {
            "author_name": "A first name or initials is fine.",
            "author_role": "Shown with your name, for example “GP, Leeds”.",
            "text": (
                "What makes them good to work with. Please leave out anyone's health details. "
                "Up to 2,000 characters."
            ),
        }
        widgets = {
            "relationship": forms.RadioSelect,
            "author_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "author_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "text": forms.Textarea(attrs={"rows": 7, "maxlength": 2000}),
        }
        error_messages = {
            "relationship": {"required": "Choose how you know their work."},
            "author_name": {"required": "Give your name, as it should be shown."},
            "author_email": {
                "required": "Give your email address, so our staff can check with you."
            },
            "text": {"required": "Write your recommendation."},
        }


class ReportForm(PublicForm):
    class Meta:
        model = Report
        fields = ["problem", "details", "reporter_email"]
        labels = {
            "problem": "What is wrong?",
            "details": "Anything else we should know?",
            "reporter_email": "Your email address",
        }
        help_texts = {
            "details": "Needed if you chose “something else”. Up to 2,000 characters.",
            "reporter_email": "Only if you are happy for our staff to ask you more. Never shown.",
        }
        widgets = {
            "problem": forms.RadioSelect,
            "details": forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
            "reporter_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        error_messages = {"problem": {"required": "Choose what is wrong."}}
