"""Workaround of jsonschema's eager format checkers, written for jsonschema 4.26.0 (pinned).

:func:`skip_unused_iri_grammar`. Bug (jsonschema 4.26.0 with rfc3987-syntax 1.1.0 installed,
which jupyter's dependencies bring): importing jsonschema (as nbformat does) compiles an
Earley parser of the IRI grammar for the ``iri`` format checker, about 1 s, although the
notebook schema never uses that format. ``nbprod check`` must answer in well under 2 s, so
before nbformat is imported it marks the optional package as absent, as if it were not
installed; jsonschema then leaves the ``iri`` format unchecked, which nothing of nbprod
uses. Can go when jsonschema builds its format checkers lazily (the canary in
``tests/unit/compat/test_compat_jsonschema.py`` finds ``rfc3987_syntax`` not imported by
``import jsonschema``).
"""

from __future__ import annotations

import sys

from . import written_for

#: The jsonschema version the patch was written for (and tested against).
WRITTEN_FOR = "4.26.0"
#: The optional package whose grammar jsonschema compiles at import.
IRI_GRAMMAR = "rfc3987_syntax"


def skip_unused_iri_grammar() -> bool:
    """Keep jsonschema from building its IRI grammar in this process; whether it could
    (not if jsonschema was imported already)."""
    if "jsonschema" in sys.modules:
        return False
    written_for("jsonschema", WRITTEN_FOR, "nbprod.compat.jsonschema.skip_unused_iri_grammar")
    sys.modules.setdefault(IRI_GRAMMAR, None)  # type: ignore[arg-type]
    return True
