"""Settings from the environment and an optional `.env` file (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the host can set. Paths default to the repository's folders, never to the cwd."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot token; no default.")
    dev_guild_id: int | None = Field(default=None, description="Sync commands to this server at start-up.")
    owner_ids: list[int] = Field(default_factory=list, description="Discord ids allowed owner commands.")
    message_content: bool = Field(
        default=False, description="Ask for the privileged Message Content intent (enable it in the portal too).")
    data_dir: Path = Field(default=ROOT / "data", description="Where the database and backups live.")
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:password@host:5432/db: store everything in PostgreSQL, "
        "so several bot processes can share it. Unset: TinyDB files in DATA_DIR, one process.")
    rules_dir: Path = Field(default=ROOT / "rules", description="Default rules, catalogue and FAQ.")
    templates_dir: Path = Field(default=ROOT / "templates", description="Jinja templates.")
    log_level: str = "INFO"
    flush_interval: float = Field(default=0.5, gt=0, le=1.0, description="Seconds between storage flushes.")
    compact_interval: float = Field(default=30.0, gt=0, description="Seconds between folding the journal "
                                     "into the database files.")
    backup_count: int = Field(default=5, ge=0, le=100)
    backup_interval: float = Field(default=3600.0, gt=0, description="Seconds between database backups.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
