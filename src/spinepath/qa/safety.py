"""Safety first: emergencies, questions outside spine and nerve pain, and requests for a dose or a
diagnosis. Every check reads the lexicon (content); this module only matches.

Order in :func:`spinepath.qa.answer.ask`: emergencies are looked for on every question, before
anything else, and their advice is always given first; then a dose or diagnosis request, or a
question outside scope, is declined politely; otherwise the question is answered from approved
content. Matching runs on the question as written and on its typo-corrected form, so a misspelt
"numbnes down there" still counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from spinepath.knowledge import schema as s
from spinepath.qa.lexicon import Advice, Lexicon, condition_phrases, resolve_advice
from spinepath.qa.text import CLAUSE_JOIN, PhraseSet, negated, words

DeclineKind = Literal["off_topic", "dose", "diagnosis"]


@dataclass(frozen=True)
class Urgent:
    """An emergency the question describes and the approved advice for it."""

    id: str
    label: str
    matched: str  # the words of the question that matched
    advice: Advice


@dataclass(frozen=True)
class Decline:
    kind: DeclineKind
    reason: str
    matched: str | None = None


def _combo_sets(combos: Iterable[Sequence[Sequence[str]]]) -> list[list[PhraseSet]]:
    return [[PhraseSet(group) for group in combo] for combo in combos]


def _first_unnegated(tokens: Sequence[str], phrases: PhraseSet, negations: PhraseSet) -> tuple[int, int] | None:
    for start, end, _p in phrases.find(tokens):
        if not negated(tokens, start, negations):
            return start, end
    return None


def _combo_match(tokens: Sequence[str], combo: list[PhraseSet], negations: PhraseSet) -> str | None:
    spans = []
    for group in combo:
        hit = _first_unnegated(tokens, group, negations)
        if hit is None:
            return None
        spans.append(hit)
    return " … ".join(" ".join(tokens[a:b]) for a, b in sorted(spans))


class Safety:
    """The lexicon's safety vocabulary, compiled once per engine."""

    def __init__(self, lexicon: Lexicon, shared: s.Shared, items: Mapping[str, Any],
                 fallback_items: Mapping[str, Any] | None = None, conditions: Iterable[Any] = (),
                 in_scope_names: Iterable[str] = ()) -> None:
        self.lexicon = lexicon
        msgs = lexicon.messages
        self._dose_msg, self._diagnosis_msg, self._off_topic_msg = (
            " ".join(m.split()) for m in (msgs.dose, msgs.diagnosis, msgs.off_topic))
        self.negations = PhraseSet(lexicon.negations)
        self.emergencies: list[tuple[str, str, PhraseSet, list[list[PhraseSet]], Advice]] = []
        for em in lexicon.emergencies:
            advice = resolve_advice(em.advice, shared, items)
            if isinstance(advice, str) and fallback_items is not None:
                # a live revision changed the sign the lexicon names: the checked bundled text still holds
                advice = resolve_advice(em.advice, shared, fallback_items)
            if isinstance(advice, str):
                raise ValueError(f"lexicon emergency {em.id!r}: {advice}")
            self.emergencies.append((em.id, em.label, PhraseSet(em.phrases), _combo_sets(em.combos), advice))
        self.out_of_scope = [(o.topic, PhraseSet(o.phrases)) for o in lexicon.scope.out_of_scope]
        terms = [p for t in lexicon.terms for p in t.phrases]
        generic = {w for ph in [*lexicon.scope.weak, *lexicon.scope.generic_name_words] for w in words(ph)}
        name_words = {w for n in in_scope_names for w in words(n) if len(w) >= 6 and w.isalpha() and w not in generic}
        self.in_scope = PhraseSet([*lexicon.scope.in_scope, *terms, *(n.lower() for n in in_scope_names),
                                   *sorted(name_words)])
        cues = [p for c in lexicon.sections if c.section != "what_it_is" for p in c.phrases]
        self.weak = PhraseSet([*lexicon.scope.weak, *cues])
        req = lexicon.requests
        self.dose = PhraseSet(req.dose_phrases)
        self.dose_combos = _combo_sets(req.dose_combos)
        self.units = PhraseSet(req.dose_units)
        self.diagnosis = PhraseSet(req.diagnosis_phrases)
        self.leads = PhraseSet(req.diagnosis_leads)
        self.conditions = PhraseSet(condition_phrases(lexicon, conditions))

    # ------------------------------------------------------------------ emergencies

    def urgent(self, *versions: Sequence[Sequence[str]]) -> tuple[list[Urgent], set[int]]:
        """Every emergency described in any version (the same clauses of tokens, as written and
        corrected) of the question, in lexicon order, each once; and the numbers of the clauses
        that described one. A trigger right after a negation ("no fever") does not count."""
        found: dict[str, Urgent] = {}
        clause_hits: set[int] = set()
        for em_id, label, phrases, combos, advice in self.emergencies:
            for clauses in versions:
                for n, tokens in enumerate(clauses):
                    hit = _first_unnegated(tokens, phrases, self.negations)
                    matched = " ".join(tokens[hit[0]:hit[1]]) if hit else None
                    # a combo may span a clause and the next ("bad headache, my neck is stiff")
                    pair = [*tokens, CLAUSE_JOIN, *clauses[n + 1]] if n + 1 < len(clauses) else list(tokens)
                    for combo in combos:
                        if matched is None:
                            matched = _combo_match(tokens, combo, self.negations)
                            if matched is None:
                                matched = _combo_match(pair, combo, self.negations)
                                if matched is not None:
                                    clause_hits.add(n + 1)
                    if matched is not None:
                        clause_hits.add(n)
                        found.setdefault(em_id, Urgent(em_id, label, matched, advice))
        return list(found.values()), clause_hits

    # ------------------------------------------------------------------ dose and diagnosis requests

    def has_dose(self, tokens: Sequence[str]) -> bool:
        """A number followed by a dose unit ("600 mg", "5 ml")."""
        for start, _end, _p in self.units.find(tokens):
            if start > 0 and tokens[start - 1].replace(".", "").isdigit():
                return True
        return False

    def request(self, clauses: Sequence[Sequence[str]]) -> Decline | None:
        """A request for a dose or for a diagnosis, declined with the lexicon's message."""
        for tokens in clauses:
            hit = self.dose.find(tokens)
            if hit:
                return Decline("dose", self._dose_msg, hit[0][2].text)
            for combo in self.dose_combos:
                m = _combo_match(tokens, combo, self.negations)
                if m:
                    return Decline("dose", self._dose_msg, m)
            if self.has_dose(tokens):
                return Decline("dose", self._dose_msg, "a dose")
        for tokens in clauses:
            hit = self.diagnosis.find(tokens)
            if hit:
                return Decline("diagnosis", self._diagnosis_msg, hit[0][2].text)
            conditions = self.conditions.find(tokens)
            for _start, end, lead in self.leads.find(tokens):
                if end < len(tokens) and tokens[end] == "to":  # "do I have to ...": not about a condition
                    continue
                lo = end + (1 if lead.parts[-1][0] == "my" else 0)  # "is my back pain ...": the subject
                for c_start, c_end, _c in conditions:
                    if lo <= c_start <= end + 4:
                        return Decline("diagnosis", self._diagnosis_msg,
                                       " ".join(tokens[_start:c_end]))
        return None

    # ------------------------------------------------------------------ scope

    def off_topic(self, raw: Sequence[Sequence[str]], corrected: Sequence[Sequence[str]]) -> Decline | None:
        """Declined when the question names a topic outside spine and nerve pain and nothing
        specific within it, or names nothing within it at all."""
        specific = any(self.in_scope.find(t) for t in [*raw, *corrected])
        if specific:
            return None
        reason = self._off_topic_msg
        for topic, phrases in self.out_of_scope:
            for tokens in raw:
                hit = phrases.find(tokens)
                if hit:
                    return Decline("off_topic", reason, f"{topic}: {hit[0][2].text}")
        if any(self.weak.find(t) for t in [*raw, *corrected]):
            return None
        return Decline("off_topic", reason, None)
