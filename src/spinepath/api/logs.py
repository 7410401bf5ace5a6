"""Logging without patient data.

Nothing in the API logs request bodies, query values or headers. The one library that could
(SQLAlchemy, when an operator turns its loggers up to INFO or DEBUG) is tamed here: engines
hide bound parameters (``hide_parameters``, set by spinepath.store.db.make_engine), and the
filter below strips the arguments from every engine log record, so SQL text may be logged but
never the values (parameters, result rows) that carry patient data.
"""

from __future__ import annotations

import logging

#: Loggers whose records can carry data values in their arguments.
DATA_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.engine.Connection")


class RedactArguments(logging.Filter):
    """Keep the message template, drop its arguments (the values)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{record.msg} [values redacted]"
            record.args = ()
        return True


class DropQueryStrings(logging.Filter):
    """uvicorn's access log: keep the path (pseudonymous ids only), drop the query string, which
    may hold a username (``/audit?username=...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


_FILTER = RedactArguments("spinepath-redact")
_ACCESS = DropQueryStrings("spinepath-access")


def configure_logging() -> None:
    """Install the filters (idempotent). Called by create_app."""
    for name in DATA_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    access = logging.getLogger("uvicorn.access")
    if _ACCESS not in access.filters:
        access.addFilter(_ACCESS)
