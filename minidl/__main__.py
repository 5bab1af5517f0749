"""``python -m minidl ...`` runs the same command line as the ``minidl`` command."""

from .cli import main

raise SystemExit(main())
