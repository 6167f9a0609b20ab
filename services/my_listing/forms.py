"""The forms a provider edits their listing with. Fields staff vouch for (VOUCHED) are in the
same forms; a change to one of them waits for staff instead of being saved (moderation.py)."""

from django import forms
from django.utils import timezone

from services import geo
from services.forms import no_control_characters, no_html, phone_number, single_line
from services.models import WAIT_WEEKS, Location, Provider, Qualification, Service
from services.places import postcodes

# The listing's and a service's own fields whose changes wait for staff.
VOUCHED_LISTING_FIELDS = ("name", "kind")
VOUCHED_SERVICE_FIELDS = ("support_type",)


class SignInForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        help_text="The address on your listing, or the one our staff invited.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ProviderForm(forms.ModelForm):
    """What every editing form shares: the listing's version when the form was opened (the
    lock), one-line text on one line, no control characters, choices as checkboxes."""

    opened_at_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    single_line_fields: tuple[str, ...] = ()

    def __init__(self, *args, provider: Provider, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.fields["opened_at_version"].initial = provider.edit_version
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField):
                field.validators += [no_control_characters, no_html]
                if name in self.single_line_fields:
                    field.validators.append(single_line)
            if isinstance(field.widget, forms.SelectMultiple):
                field.widget = forms.CheckboxSelectMultiple(choices=field.choices)


class ListingForm(ProviderForm):
    single_line_fields = ("name", "pronouns", "phone")
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Provider
        fields = [
            "accepting_new_clients",
            "wait_weeks",
            # Set to today on every save (clean()): not a field the provider fills in.
            "accepting_confirmed_on",
            "name",
            "kind",
            "introduction",
            "statement",
            "pronouns",
            "practising_since",
            "languages",
            "communities",
            "offers_free_consultation",
            "phone",
            "email",
            "website",
        ]
        labels = {
            "name": "Name shown on the listing",
            "kind": "You are",
            "accepting_new_clients": "I am taking new clients",
            "wait_weeks": "How soon could a new client have a first session?",
            "offers_free_consultation": "I offer a free first consultation",
            "email": "Contact email",
        }
        help_texts = {
            "wait_weeks": "Shown while you are taking new clients. For a group: how soon a new"
            " member could join. Saving this page confirms both, with today's date.",
            "name": "A new name waits for our check before it is shown.",
            "kind": "A change here waits for our check.",
            "email": "Where messages from the public go, and where your sign-in links go.",
            "introduction": "One or two sentences in your own words, shown near the top of "
            "your profile and on result cards.",
            "statement": "In your own words: how you work, and who you work with.",
        }
        widgets = {
            "introduction": forms.Textarea(attrs={"rows": 2}),
            "wait_weeks": forms.RadioSelect,
        }

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, instance=provider, provider=provider, **kwargs)
        self.fields["phone"].validators.append(phone_number)
        self.fields["wait_weeks"].choices = [("", "I would rather not say"), *WAIT_WEEKS]
        # Never from the request: whatever is posted, the date is today's (clean()).
        confirmed = self.fields["accepting_confirmed_on"]
        confirmed.disabled, confirmed.widget = True, forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        # The form says whether they take new clients and how soon, so saving it confirms
        # both: the date the listing shows, and what ends a lapse (Provider.save()).
        cleaned["accepting_confirmed_on"] = timezone.localdate()
        return cleaned


class ServiceForm(ProviderForm):
    single_line_fields = ("name", "insurers", "group_facilitator")

    class Meta:
        model = Service
        fields = [
            "support_type",
            "name",
            "description",
            "concerns",
            "approaches",
            "term",
            "offers_in_person",
            "offers_online",
            "offers_phone",
            "for_individuals",
            "for_couples",
            "for_families",
            "for_groups",
            "age_groups",
            "languages",
            "locations",
            "fee_min",
            "fee_max",
            "sliding_scale",
            "is_free",
            "accepts_insurance",
            "insurers",
            "group_weekday",
            "group_start_time",
            "group_end_time",
            "group_frequency",
            "group_starts_on",
            "group_facilitator",
        ]
        labels = {
            "support_type": "Kind of support",
            "locations": "Where (your places)",
            "fee_min": "Lowest fee a session (£)",
            "fee_max": "Highest fee a session (£)",
            "languages": "Languages, if not those of the whole listing",
        }
        help_texts = {"support_type": "A new kind of support waits for our check."}
        widgets = {
            "group_start_time": forms.TimeInput(attrs={"type": "time"}),
            "group_end_time": forms.TimeInput(attrs={"type": "time"}),
            "group_starts_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, provider=provider, **kwargs)
        self.instance.provider = provider
        self.fields["locations"].queryset = provider.locations.all()


class PlaceForm(ProviderForm):
    single_line_fields = (
        "name",
        "address_line1",
        "address_line2",
        "town",
        "region",
        "postcode",
        "accessibility_notes",
        "opening_hours",
    )

    class Meta:
        model = Location
        fields = [
            "name",
            "address_line1",
            "address_line2",
            "town",
            "region",
            "postcode",
            "address_shown",
            "wheelchair_access",
            "accessibility_notes",
            "opening_hours",
            "opens_daytime",
            "opens_evenings",
            "opens_weekends",
        ]

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, provider=provider, **kwargs)
        self.instance.provider = provider

    def clean(self):
        cleaned_data = super().clean()
        postcode = cleaned_data.get("postcode")
        if postcode and (
            postcode != self.initial.get("postcode") or self.instance.latitude is None
        ):
            # The map position is the postcode district's centre: near enough for distances,
            # and it never needs a geocoding service.
            parsed = geo._postcode(postcode)
            found = parsed and postcodes.district(parsed[0])
            if not found:
                self.add_error("postcode", "We do not know this postcode. Check it, e.g. LS6 3AA.")
            else:
                self.instance.latitude, self.instance.longitude = found.latitude, found.longitude
        return cleaned_data


class QualificationForm(ProviderForm):
    """Every qualification waits for our check, new or changed."""

    single_line_fields = ("title", "issuer", "number", "region")

    class Meta:
        model = Qualification
        fields = ["kind", "title", "issuer", "number", "region", "year"]
        labels = {"number": "Registration or licence number"}

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, provider=provider, **kwargs)
        self.instance.provider = provider
