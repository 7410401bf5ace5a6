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


_FILTER = RedactArguments("spinepath-redact")


def configure_logging() -> None:
    """Install the redaction filter (idempotent). Called by create_app."""
    for name in DATA_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
