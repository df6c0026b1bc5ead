"""Everything the bot remembers, behind a small repository interface (TinyDB today).

Open one `Storage` per process and close it at shutdown::

    with Storage.open(settings.data_dir) as storage:
        storage.profiles.save(user_id, profile)
        plan = storage.plans.latest(user_id)

Repository calls touch only memory and are safe on the asyncio event loop; a background thread
makes changes durable (a journal append) every `flush_interval` seconds, and another folds the
journal into the TinyDB files with atomic rewrites. See `_store.py` for the design and `_facade.py`
for what a crash can and cannot lose.
"""

from bot.storage._facade import Storage
from bot.storage._lock import DataDirBusy
from bot.storage._migrations import MIGRATIONS, SCHEMA, MigrationError, migration
from bot.storage._open import close_storage, open_storage
from bot.storage._repos import (
    FORGOTTEN_USER,
    GUILD_DEFAULTS,
    AuditRepository,
    CheckinRepository,
    ConversationRepository,
    ForgetReceipt,
    GuildRepository,
    PlanRepository,
    ProfileRepository,
    ReminderRepository,
    export_document,
    set_write_origin,
    write_origin,
    writes_from,
)
from bot.storage._store import DatabaseUnavailable, MemberForgotten, StorageError

__all__ = [
    "FORGOTTEN_USER",
    "GUILD_DEFAULTS",
    "MIGRATIONS",
    "SCHEMA",
    "AuditRepository",
    "CheckinRepository",
    "ConversationRepository",
    "DataDirBusy",
    "DatabaseUnavailable",
    "ForgetReceipt",
    "GuildRepository",
    "MemberForgotten",
    "MigrationError",
    "PlanRepository",
    "ProfileRepository",
    "ReminderRepository",
    "Storage",
    "StorageError",
    "close_storage",
    "export_document",
    "migration",
    "open_storage",
    "set_write_origin",
    "write_origin",
    "writes_from",
]
