"""The guide: what to look for in support, and a four-step form that builds a search."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse

from services.free_routes import FREE_ROUTES
from services.models import AgeGroup, Concern, Gender, Language, SupportType
from services.search.criteria import CRITERIA

# The times to a first session the results page can search for, as the criterion declares them.
STARTS_WITHIN = CRITERIA["starts_within"]

NOT_SURE = "not-sure"
DEFAULT_RADIUS = "10"
RADIUS_CHOICES = [(km, f"{km} km") for km in ("5", "10", "25", "50")]
FORMAT_CHOICES = [
    ("in_person", "In person"),
    ("online", "Online, by video"),
    ("phone", "By phone"),
]
# The results page's parameters, in the order the search link lists them.
SEARCH_PARAMETERS = [
    "concern",
    "type",
    "age_group",
    "near",
    "radius",
    "format",
    "language",
    "max_fee",
    "sliding_scale",
    "free",
    "accepting",
    "starts_within",
    "gender",
]


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    fields: tuple[str, ...]


STEPS = [
    Step(1, "What would you like support with?", ("concern",)),
    Step(2, "What kind of support?", ("type", "age_group")),
    Step(3, "Where and how?", ("near", "radius", "format")),
    Step(
        4,
        "What else matters?",
        ("language", "max_fee", "sliding_scale", "free", "accepting", "starts_within", "gender"),
    ),
]
GROUPED_FIELDS = {"concern", "type", "age_group", "format"}  # shown as a fieldset of options


class Tickbox(forms.CheckboxInput):
    """A checkbox that submits "1" (as the results page's own do); "0", "false", "off" read as unticked."""

    def __init__(self):
        super().__init__(attrs={"value": "1"})

    def value_from_datadict(self, data, files, name):
        return data.get(name, "").strip().lower() not in {"", "0", "false", "off"}


class OptionsField(forms.MultipleChoiceField):
    """Ticked options, each once; an empty value in a shared link is ignored, not an error."""

    def to_python(self, value):
        return list(dict.fromkeys(item for item in super().to_python(value) if item.strip()))


class RadiusField(forms.ChoiceField):
    """A distance that shows the usual one until the person chooses another."""

    def bound_data(self, data, initial):
        return data or initial


class PoundsField(forms.DecimalField):
    """An amount in pounds; a typed "£" sign is allowed."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().lstrip("£").strip()
        return super().to_python(value)


@dataclass(frozen=True)
class Vocabularies:
    """The taxonomy terms the guide offers; loaded once per request, a fixed number of queries."""

    concerns: list
    support_types: list
    age_groups: list
    languages: list
    genders: list

    @classmethod
    def load(cls) -> "Vocabularies":
        return cls(
            concerns=list(Concern.objects.all()),
            support_types=list(SupportType.objects.all()),
            age_groups=list(AgeGroup.objects.all()),
            languages=list(Language.objects.all()),
            genders=list(Gender.objects.all()),
        )


def _choices(terms) -> list[tuple[str, str]]:
    return [(term.slug, term.name) for term in terms]


class GuideForm(forms.Form):
    """Every answer the guide asks for; all optional, each checked against what exists."""

    concern = OptionsField(
        label="What would you like support with?",
        required=False,
        help_text="Tick any that apply, or none at all. You can come back and change your answers.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "One of the concerns chosen is not on our list. Please choose from the list."
        },
    )
    type = OptionsField(
        label="Kinds of support",
        required=False,
        help_text="Tick any you would consider.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "One of the kinds of support chosen is not on our list. Please choose from the list."
        },
    )
    age_group = forms.ChoiceField(
        label="Who is the support for?",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Please choose an age group from the list."},
    )
    near = forms.CharField(
        label="Town or postcode",
        required=False,
        max_length=100,
        help_text="For example Leeds or LS6. Leave this empty if you only want support online or by phone.",
        error_messages={
            "max_length": "Please keep the town or postcode to 100 characters or fewer."
        },
    )
    radius = RadiusField(
        label="How far could you travel?",
        required=False,
        choices=RADIUS_CHOICES,
        initial=DEFAULT_RADIUS,
        error_messages={
            "invalid_choice": "Please choose a distance from the list: 5, 10, 25 or 50 km."
        },
    )
    format = OptionsField(
        label="How would you like to meet?",
        required=False,
        help_text="Tick any that would work for you, or none if you do not mind.",
        choices=FORMAT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Please choose in person, online or by phone."},
    )
    language = forms.ChoiceField(
        label="Language for your sessions",
        required=False,
        error_messages={"invalid_choice": "Please choose a language from the list."},
    )
    max_fee = PoundsField(
        label="The most you could pay for one session, in pounds",
        required=False,
        min_value=0,
        max_value=10_000,
        max_digits=7,
        decimal_places=2,
        help_text="For example 40. Leave this empty if cost does not limit you.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 8}),
        error_messages={
            "invalid": "Enter the most you could pay as a number of pounds, for example 40.",
            "min_value": "The most you could pay cannot be less than £0. Enter 0 or more, for example 40.",
            "max_value": "That amount is too large. Enter £10,000 or less, for example 40.",
            "max_digits": "That amount is too large. Enter a number of pounds, for example 40.",
            "max_whole_digits": "That amount is too large. Enter a number of pounds, for example 40.",
            "max_decimal_places": "Enter pounds and pence with no more than two figures after the point, for example 42.50.",
        },
    )
    sliding_scale = forms.BooleanField(
        label="Fees on a sliding scale (lower fees for people on lower incomes)",
        required=False,
        widget=Tickbox(),
    )
    free = forms.BooleanField(label="Only free support", required=False, widget=Tickbox())
    accepting = forms.BooleanField(
        label="Only those taking on new clients now", required=False, widget=Tickbox()
    )
    starts_within = forms.ChoiceField(
        label="How soon would you like a first session?",
        required=False,
        help_text="Only listings that have told us how soon they can see someone new, and"
        " confirmed it lately, are found when you choose a time.",
        error_messages={"invalid_choice": "Please choose from the list, or “Whenever suits”."},
    )
    gender = forms.ChoiceField(
        label="Gender of the practitioner (optional)",
        required=False,
        help_text="How practitioners describe themselves. Most people leave this as no preference.",
        error_messages={"invalid_choice": "Please choose from the list, or “No preference”."},
    )

    def __init__(self, data, *, vocabularies: Vocabularies):
        super().__init__(data, label_suffix="")
        self.vocabularies = vocabularies
        self.fields["concern"].choices = _choices(vocabularies.concerns)
        self.fields["type"].choices = [
            *_choices(vocabularies.support_types),
            (NOT_SURE, "I'm not sure yet"),
        ]
        self.fields["age_group"].choices = [("", "Any age"), *_choices(vocabularies.age_groups)]
        self.fields["language"].choices = [("", "Any language"), *_choices(vocabularies.languages)]
        self.fields["gender"].choices = [("", "No preference"), *_choices(vocabularies.genders)]
        self.fields["starts_within"].choices = [
            ("", "Whenever suits"),
            *((option.value, f"Within {option.label}") for option in STARTS_WITHIN.fixed),
        ]

    def type_options(self):
        """Each kind-of-support checkbox with its one-line summary ("not sure" is drawn apart)."""
        summaries = [support_type.summary for support_type in self.vocabularies.support_types]
        return list(zip(list(self["type"])[:-1], summaries, strict=True))

    def tickboxes(self):
        return [self["sliding_scale"], self["free"], self["accepting"]]

    def is_unsure_of_type(self) -> bool:
        return NOT_SURE in (self["type"].value() or [])

    def search_query(self) -> QueryDict:
        """The results page's parameters for these answers, leaving out the empty ones."""
        data = self.cleaned_data
        types = [] if NOT_SURE in data["type"] else data["type"]
        near = data["near"]
        max_fee: Decimal | None = data["max_fee"]
        values = {
            "concern": data["concern"],
            "type": types,
            "age_group": [data["age_group"]],
            "near": [near],
            # A distance means nothing without a place to measure it from.
            "radius": [data["radius"] or DEFAULT_RADIUS] if near else [],
            "format": data["format"],
            "language": [data["language"]],
            "max_fee": [] if max_fee is None else [format(max_fee.normalize(), "f")],
            "sliding_scale": ["1"] if data["sliding_scale"] else [],
            "free": ["1"] if data["free"] else [],
            "accepting": ["1"] if data["accepting"] else [],
            "starts_within": [data["starts_within"]],
            "gender": [data["gender"]],
        }
        query = QueryDict(mutable=True)
        for name in SEARCH_PARAMETERS:
            if kept := [value for value in values[name] if value]:
                query.setlist(name, kept)
        return query


def _answers(data: QueryDict, names) -> list[tuple[str, str]]:
    """The person's answers as they sent them (valid or not), for hidden inputs and links."""
    return [(name, value) for name in names for value in data.getlist(name) if value.strip()]


def _step_link(step: int, answers: list[tuple[str, str]]) -> str:
    query = QueryDict(mutable=True)
    query["step"] = str(step)
    for name, value in answers:
        query.appendlist(name, value)
    return "?" + query.urlencode()


def _error_target(form: GuideForm, name: str) -> str:
    """The id a link in the error summary moves focus to: the field, or a group's first option."""
    field = form[name]
    return f"{field.auto_id}_0" if name in GROUPED_FIELDS else field.auto_id


def guide(request):
    vocabularies = Vocabularies.load()
    form = GuideForm(request.GET, vocabularies=vocabularies)
    form_is_valid = form.is_valid()
    requested = request.GET.get("step", "1")
    done = requested == "done"
    step_error = ""
    if done:
        number = len(STEPS)
    elif requested in {str(step.number) for step in STEPS}:
        number = int(requested)
    else:
        number = 1
        step_error = (
            "We could not find that step of the guide. Your answers are kept: carry on from here."
        )

    if done and form_is_valid:
        query = form.search_query().urlencode()
        find_url = reverse("services:find")
        return HttpResponseRedirect(f"{find_url}?{query}" if query else find_url)
    if not form_is_valid:
        # Show the first step with a problem, so it can be put right where it was asked.
        number = next((each.number for each in STEPS if set(each.fields) & set(form.errors)), 1)

    step = STEPS[number - 1]
    all_fields = [name for each in STEPS for name in each.fields]
    answers = _answers(request.GET, all_fields)
    errors = [
        (_error_target(form, name), message)
        for each in STEPS
        for name in each.fields
        for message in form.errors.get(name, [])
    ]
    context = {
        "form": form,
        "step": step,
        "step_count": len(STEPS),
        "is_last_step": number == len(STEPS),
        "step_error": step_error,
        "errors": errors,
        # Answers from the other steps travel as hidden inputs; this step's are shown.
        "carried": [(name, value) for name, value in answers if name not in step.fields],
        "back_url": _step_link(number - 1, answers) if number > 1 else "",
        "next_step": "done" if number == len(STEPS) else str(number + 1),
        "support_types": vocabularies.support_types,
        "free_routes": FREE_ROUTES,
    }
    status = 400 if (step_error or errors) else 200
    return render(request, "services/guide.html", context, status=status)
