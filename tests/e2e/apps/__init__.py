"""Small apps the end-to-end tests serve when the examples do not show what a test must see.

Each builds its verifier from the ``BEARERGUARD_*`` environment, as the examples do.
:mod:`.gates` is how a test holds a request in the worker process that took it;
:mod:`.logs` writes bearerguard's warnings to the server's log with their level and
the worker's pid.
"""

from __future__ import annotations
