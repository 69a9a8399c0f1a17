"""``python -m brewbench.bench`` is the ``brewbench`` command."""

import sys

from .cli import main

sys.exit(main())
