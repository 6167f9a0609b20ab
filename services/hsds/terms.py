"""The directory's vocabularies as an import meets them: terms by id and code, and new ones added."""

import uuid

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from services.hsds import vocabulary as vocab
from services.hsds.checks import Report
from services.models import Language


class Terms:
    """The directory's vocabularies by id and code, and the terms a file adds to them."""

    def __init__(self, report: Report):
        self.report = report
        self.by_id: dict[str, vocab.TermRef] = {}
        self.by_code: dict[tuple[str, str], vocab.TermRef] = {}
        for ref in vocab.all_terms():
            self._know(ref)

    def _know(self, ref: vocab.TermRef) -> None:
        term = ref.term
        term_id = term.id if isinstance(term, vocab.Feature) else str(term.uuid)
        code = term.code if isinstance(term, vocab.Feature) else term.slug
        self.by_id[term_id] = ref
        self.by_code[(ref.vocabulary.key, code)] = ref

    def find(self, term_data: dict, where: str, path: str) -> vocab.TermRef | None:
        """The directory's term for an HSDS taxonomy_term (by id, then by taxonomy and code),
        adding it to the vocabulary when the file brings a new one."""
        term_id = term_data.get("id") or term_data.get("taxonomy_term_id")
        if term_id in self.by_id:
            return self.by_id[term_id]
        vocabulary = vocab.vocabulary_by_id().get(term_data.get("taxonomy_id", ""))
        if vocabulary is None:
            return None
        code = term_data.get("code") or slugify(term_data.get("name", ""))
        ref = self.by_code.get((vocabulary.key, code))
        if ref is not None or vocabulary.model is None or not term_data.get("name"):
            return ref
        return self._add(vocabulary, term_id, code, term_data, where, path)

    def _add(self, vocabulary, term_id, code, data, where, path) -> vocab.TermRef | None:
        model = vocabulary.model
        if model in (Language,) or vocabulary is vocab.AGE_GROUPS:
            # A language needs its ISO code, an age group its ages: they come from services.
            self.report.warn(
                where,
                path,
                f"the {vocabulary.name.lower()} term “{data['name']}” is not in this directory and was left out",
            )
            return None
        term = model(
            name=data["name"][:100],
            slug=slugify(code)[:100],
            description=data.get("description", ""),
        )
        try:
            term.uuid = uuid.UUID(term_id) if term_id else uuid.uuid4()
        except ValueError:
            term.uuid = uuid.uuid4()
        try:
            term.full_clean()
        except ValidationError as error:
            self.report.error(
                where,
                path,
                f"the new term “{data['name']}” cannot be added: {' '.join(error.messages)}",
            )
            return None
        term.save()
        self.report.created[vocabulary.name] += 1
        ref = vocab.TermRef(vocabulary, term)
        self._know(ref)
        return ref

    def language(self, data: dict, where: str, path: str):
        """The directory's language for an HSDS language object (by code, then by name)."""
        code, name = (data.get("code") or "").strip().lower(), (data.get("name") or "").strip()
        for ref in self.by_id.values():
            if ref.vocabulary is vocab.LANGUAGES and (
                (code and ref.term.code.lower() == code)
                or (name and ref.term.name.lower() == name.lower())
            ):
                return ref.term
        if not (code and name):
            self.report.warn(where, path, "a language without both a name and a code was left out")
            return None
        term = Language(name=name[:100], slug=slugify(name)[:100], code=code[:12])
        try:
            term.full_clean()
        except ValidationError as error:
            self.report.error(
                where, path, f"the language “{name}” cannot be added: {' '.join(error.messages)}"
            )
            return None
        term.save()
        self.report.created["Languages"] += 1
        self._know(vocab.TermRef(vocab.LANGUAGES, term))
        return term
