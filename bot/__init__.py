"""LegDay: a Discord bot that coaches runners on leg strength."""

__version__ = "0.1.0"
