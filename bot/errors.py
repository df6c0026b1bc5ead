"""The one base class of the core's expected errors: each carries the message its reader is shown."""

from __future__ import annotations


class LegDayError(ValueError):
    """Something a member or moderator asked for that can't be done; `user_message` says why, in their words.

    The core raises subclasses (a rule file's or a moderator's YAML problems, an FAQ entry, a condition,
    a tuning request); the Discord layer shows `user_message` through its one error handler, and the command
    line prints it. Anything else that escapes is a bug, logged with its traceback.
    """

    @property
    def user_message(self) -> str:
        """The message its reader is shown: the error's own text."""
        return str(self)
