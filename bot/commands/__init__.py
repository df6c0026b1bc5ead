"""Subcommands of `python -m bot`, one module each, each with `register(subparsers)`."""
