"""``python -m simdeploy``: the same as the ``simdeploy`` command."""

import sys

from simdeploy.cli import main

sys.exit(main())
