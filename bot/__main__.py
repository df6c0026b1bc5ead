"""Command line: `python -m bot [run|console|preview|faq|parse|rules|sync]`."""

from bot.cli import main

raise SystemExit(main())
