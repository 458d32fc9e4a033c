"""`python -m bot` is `hearth`."""

import sys

from bot.cli import main

sys.exit(main())
