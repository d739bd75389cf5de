"""``python -m circle_rotate`` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
