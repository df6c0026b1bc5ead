"""Command line: `python -m bot [run|console|preview|faq|parse|rules|sync|launch|storage]`."""

from bot.cli import main

raise SystemExit(main())
