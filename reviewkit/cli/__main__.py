"""`python -m reviewkit.cli` runs the command line, as `python -m reviewkit` does."""

import sys

from reviewkit.cli.run import main

sys.exit(main())
