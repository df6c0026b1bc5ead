"""Settings from the environment and an optional `.env` file (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the host can set. Paths default to the repository's folders, never to the cwd."""

    # The repository's .env wherever LegDay is started from; a .env in the current folder, if any, wins.
    model_config = SettingsConfigDict(env_file=(ROOT / ".env", ".env"), env_file_encoding="utf-8", extra="ignore")

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
    # Several processes (README: Running several processes). Either name the shards outright, or give a
    # cluster index and count and let each cluster take every cluster_count-th shard.
    shard_count: int | None = Field(default=None, ge=1, le=100_000, description="Total shards across all "
                                    "processes (Discord needs one per 2,500 servers). Unset: Discord's advice.")
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None, description="The shards this process runs, like 0,1 (needs SHARD_COUNT).")
    cluster_index: int | None = Field(default=None, ge=0, description="This process's number, 0 first.")
    cluster_count: int | None = Field(default=None, ge=1, le=1000, description="How many processes in all.")
    reminders_loop: bool = Field(default=True, description="Send reminder DMs from this process when it holds "
                                 "shard 0 (the only process that sends them).")

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [part.strip() for part in text.split(",") if part.strip()] if text else None
        return value

    @model_validator(mode="after")
    def _check_shards(self) -> Self:
        if (self.cluster_index is None) != (self.cluster_count is None):
            raise ValueError("CLUSTER_INDEX and CLUSTER_COUNT go together: set both (like 0 and 2) or neither.")
        if self.cluster_count is not None and self.cluster_index >= self.cluster_count:  # type: ignore[operator]
            raise ValueError(f"CLUSTER_INDEX counts from 0, so it must be below CLUSTER_COUNT "
                             f"({self.cluster_count}), not {self.cluster_index}.")
        if self.shard_ids is not None:
            if self.cluster_count is not None:
                raise ValueError("Set SHARD_IDS or CLUSTER_INDEX/CLUSTER_COUNT, not both.")
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT (the total number of shards across processes).")
            bad = [n for n in self.shard_ids if not 0 <= n < self.shard_count]
            if bad or not self.shard_ids:
                raise ValueError(f"SHARD_IDS are shard numbers from 0 to {self.shard_count - 1}, like 0,1; "
                                 f"not {bad or 'an empty list'}.")
        if self.cluster_count is not None and (self.shard_count or self.cluster_count) < self.cluster_count:
            raise ValueError(f"SHARD_COUNT ({self.shard_count}) must be at least CLUSTER_COUNT "
                             f"({self.cluster_count}), so every process has a shard.")
        return self

    def shards(self) -> tuple[list[int] | None, int | None]:
        """(shard ids this process runs, total shard count); (None, None) lets discord.py ask Discord."""
        if self.cluster_count is not None and self.cluster_index is not None:
            total = self.shard_count or self.cluster_count
            return [n for n in range(total) if n % self.cluster_count == self.cluster_index], total
        return self.shard_ids, self.shard_count

    @property
    def is_primary(self) -> bool:
        """Whether this process syncs commands and runs the once-per-bot jobs (cluster 0, or the only one)."""
        ids, _ = self.shards()
        return ids is None or 0 in ids


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
