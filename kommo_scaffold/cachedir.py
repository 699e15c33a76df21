"""The one folder for what kommo keeps between commands and can always rebuild: the
preview's JavaScript libraries and compiled template code.

``~/.kommo-scaffold`` (next to the template store), or the folder named by
``KOMMO_SCAFFOLD_CACHE``. Anything under it may be deleted at any time.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "KOMMO_SCAFFOLD_CACHE"


def root() -> Path:
    configured = os.environ.get(ENV)
    return Path(configured) if configured else Path.home() / ".kommo-scaffold"
