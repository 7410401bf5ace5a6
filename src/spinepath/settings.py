"""Service settings, read from the environment (SPINEPATH_*) by the app factory or the CLI.

Never built at import time: tests and the demo build their own Settings and pass them in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "spinepath"


class Settings(BaseSettings):
    """All knobs of the service. Environment variable = SPINEPATH_ + upper-case field name."""

    model_config = SettingsConfigDict(env_prefix="SPINEPATH_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir,
                           description="Where the embedded SQLite database lives")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/spinepath.db. PostgreSQL: "
        "postgresql+psycopg://user:pass@host/db",
    )
    content_dir: Path | None = Field(default=None, description="Clinic content overlay directory")
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, description="Lifetime of a login token")
    login_attempts_per_minute: int = Field(default=5, ge=1, description="Per username and client address")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Larger request bodies get 413")
    default_policy: str | None = Field(default=None, description="Policy profile id; default: the content's")
    qa_dense: Literal["auto", "on", "off"] = Field(
        default="auto", description="Dense (MiniLM) retrieval for answers: auto (when installed), on or off")

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'spinepath.db'}"
