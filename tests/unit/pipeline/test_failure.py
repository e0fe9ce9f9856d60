"""The on_failure hook's reading of a build's traceback (the real build: test_bad_data)."""

from nbprod.pipeline.failure import summary, toolkit_errors

TRACEBACK = """Traceback (most recent call last):
  File "<ipython-input-1>", line 1, in <module>
nbprod.errors.DataValidationError: raw.csv: 1 schema rule(s) broken
  column 'x' breaks isin(['a']) in 1 row(s): row 7: 'z'
Fix the data file or the declared schema, then rebuild.

ploomber.exceptions.TaskBuildError: Error when executing task 'ingest'.
ValueError: not ours
nbprod.errors.DataValidationError: raw.csv: 1 schema rule(s) broken
  column 'x' breaks isin(['a']) in 1 row(s): row 7: 'z'
Fix the data file or the declared schema, then rebuild.
"""


def test_only_the_toolkit_s_errors_are_kept_whole_and_once():
    found = toolkit_errors(TRACEBACK)
    assert found == ["DataValidationError: raw.csv: 1 schema rule(s) broken\n"
                     "  column 'x' breaks isin(['a']) in 1 row(s): row 7: 'z'\n"
                     "Fix the data file or the declared schema, then rebuild."]
    assert summary(["ingest"], found).startswith("nbprod: the build failed at 'ingest':\n")
    assert "traceback above" in summary(["train"], toolkit_errors("ValueError: boom"))
