"""The jsonschema workaround (nbprod.compat.jsonschema): the IRI grammar compiled at import on
the pinned jsonschema, and nbformat's validation unchanged without it. In fresh interpreters,
since the patch only works before jsonschema is first imported."""

from __future__ import annotations

import json
import subprocess
import sys

from nbprod import compat
from nbprod.compat import jsonschema as patch

VALIDATE = """
import json, sys
{before}
import nbformat
nbformat.validate(nbformat.v4.new_notebook())
print(json.dumps({{"grammar": sys.modules.get("rfc3987_syntax") is not None}}))
"""


def run(before: str) -> dict:
    code = VALIDATE.format(before=before)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def test_the_pinned_jsonschema_is_the_one_the_patch_was_written_for():
    assert compat.installed("jsonschema") == patch.WRITTEN_FOR
    assert compat.installed("rfc3987-syntax") is not None  # the optional package is there


def test_importing_nbformat_compiles_the_iri_grammar_until_patched():
    assert run("") == {"grammar": True}  # the bug: the grammar is built at import
    patched = "from nbprod.compat.jsonschema import skip_unused_iri_grammar\n" \
              "assert skip_unused_iri_grammar()"
    assert run(patched) == {"grammar": False}  # and a notebook still validates


def test_the_patch_does_nothing_once_jsonschema_is_imported():
    import jsonschema  # noqa: F401

    assert patch.skip_unused_iri_grammar() is False
