"""``python -m brewbench`` is the ``brewbench`` command."""

import sys

from .bench.cli.main import main

sys.exit(main())
