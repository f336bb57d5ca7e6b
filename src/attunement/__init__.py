"""attunement: measure, track and foster emotional intimacy in close relationships.

The library is the core; the ``attunement`` command and the web app are thin shells over it.
attunement is not therapy and does not replace it.
"""

from attunement.errors import AttunementError, InvalidInputError, Problem

__all__ = ["AttunementError", "InvalidInputError", "Problem", "__version__"]

__version__ = "0.1.0"
