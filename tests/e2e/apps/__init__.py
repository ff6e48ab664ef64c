"""Small apps the end-to-end tests serve when the examples do not show what a test must see.

Each builds its verifier from the ``BEARERGUARD_*`` environment, as the examples do.
:mod:`.gates` is how a test holds a request in the worker process that took it.
"""

from __future__ import annotations
