"""The ``attunement`` command: a thin shell over the library.

One module per domain adds its commands to the shared group in ``_group``; this keeps each
command beside its siblings without one file growing without bound. Commands parse options,
call one library function and print; domain errors become a message and exit status 2.
"""

from __future__ import annotations

# Command modules register their commands on import. Keep the list alphabetical.
# Each line: "from attunement.cli import MODULE as MODULE", marked noqa F401.
from attunement.cli import analyze as analyze
from attunement.cli import chat as chat
from attunement.cli import data as data
from attunement.cli import db as db
from attunement.cli import fit as fit
from attunement.cli import instruments as instruments
from attunement.cli import reliability as reliability
from attunement.cli import reminders as reminders
from attunement.cli import research as research
from attunement.cli import serve as serve
from attunement.cli._group import cli, main

__all__ = ["cli", "main"]
