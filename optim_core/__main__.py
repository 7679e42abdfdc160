"""``python -m optim_core``: see optim_core.cli."""

import sys

from .cli import main

sys.exit(main())
