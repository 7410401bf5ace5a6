"""One exception tree for spinepath, with stable codes.

    SpinepathError (code: spinepath-error)
    ├── ContentError (content-invalid)        a content file or directory is wrong; nothing is loaded
    │   └── CriteriaError (criteria-invalid)  a criterion uses disallowed syntax or unknown names
    ├── CaseError (case-invalid)              a patient case breaks the input contract
    ├── PolicyError (policy-unknown)          a policy profile id that the snapshot does not hold
    ├── InputError (input-invalid)            a file or argument given to a command is unusable
    │   └── AnswerError (answers-invalid)     follow-up answers that do not fit their instrument
    ├── TransitionForbidden (transition-forbidden)  an editorial step not allowed from this state, role or user
    │   └── ApprovalBlocked (approval-blocked)  the revision fails the content check or the readability gate
    └── DatabaseError (database-unavailable)  the database cannot be reached or used
        └── DatabaseNotMigrated (database-not-migrated)  schema missing or old: run `spinepath db upgrade`

Every error carries ``code`` (stable, kebab-case, documented in docs/errors.md), a human
``message`` and, where one field is at fault, ``field`` (a dotted path) so that the CLI and
the API can say exactly what to fix. ``problems`` holds every individual finding when one
error reports many (a content check, a case with several bad fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, what is wrong, and (when known) what is allowed."""

    location: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = self.location + (f" at {self.field}" if self.field else "")
        return f"{where}: {self.message}"


@dataclass
class SpinepathError(Exception):
    """Base of every error spinepath raises on purpose."""

    message: str
    field: str | None = None
    problems: list[Problem] = dc_field(default_factory=list)
    code = "spinepath-error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """The error envelope shared by the CLI's --json output and the API."""
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "problems": [
                {"location": p.location, "field": p.field, "message": p.message}
                for p in self.problems
            ],
        }


class ContentError(SpinepathError):
    """Content files are malformed or inconsistent; the snapshot is not built."""

    code = "content-invalid"


class CriteriaError(ContentError):
    """A criterion expression is not in the allowed language or names an unknown fact."""

    code = "criteria-invalid"


class CaseError(SpinepathError):
    """A patient case does not satisfy the input contract."""

    code = "case-invalid"


class PolicyError(SpinepathError):
    """A policy profile was requested that the knowledge snapshot does not contain."""

    code = "policy-unknown"


class InputError(SpinepathError):
    """A file or command argument cannot be used (missing, unreadable, wrong format)."""

    code = "input-invalid"


class AnswerError(InputError):
    """Follow-up answers do not fit their instrument (unknown item, value out of range, a FHIR response that does not map)."""

    code = "answers-invalid"


class TransitionForbidden(SpinepathError):
    """A content revision cannot take this editorial step: not from its current state, not in this role, or not by its own author."""

    code = "transition-forbidden"


class ApprovalBlocked(TransitionForbidden):
    """A content revision fails the content check or the patient readability gate, so it cannot be approved."""

    code = "approval-blocked"


class DatabaseError(SpinepathError):
    """The database cannot be reached or used."""

    code = "database-unavailable"


class DatabaseNotMigrated(DatabaseError):
    """The database schema is missing or not the one this version expects; run `spinepath db upgrade`."""

    code = "database-not-migrated"


ERROR_CODES: dict[str, str] = {
    cls.code: (cls.__doc__ or "").strip().splitlines()[0]
    for cls in (SpinepathError, ContentError, CriteriaError, CaseError, PolicyError, InputError, AnswerError,
                TransitionForbidden, ApprovalBlocked, DatabaseError, DatabaseNotMigrated)
}
