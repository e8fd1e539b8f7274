"""`python -m reviewkit` runs the command line."""

import sys

from reviewkit.cli import main

sys.exit(main())
