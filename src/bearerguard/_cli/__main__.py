"""``python -m bearerguard._cli``: the ``bearerguard`` command without the installed script."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
