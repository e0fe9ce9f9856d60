"""hera restyles every string PyYAML's safe dumper writes, process-wide; nbprod's own dumper
keeps PyYAML's style, so a flow mapping written by `nbprod new` still reads back."""

import yaml

from nbprod.compat.pyyaml import safe_dump

VALUE = 'yes"\nconda:\n  pip: ["evil"]\n#'


def test_hera_makes_safe_dump_write_a_block_scalar_that_breaks_a_flow_line():
    import hera._yaml  # noqa: F401  (registers hera's str representer, process-wide)

    # a value of `key: <value>  # comment`, as columns.yaml is written
    text = yaml.safe_dump(VALUE, default_flow_style=True, width=10**9).removesuffix("\n...\n")
    assert text.startswith("|"), text
    assert yaml.safe_load(f"key: {text.strip()}  # a comment") != {"key": VALUE}, "the bug"
    ours = safe_dump(VALUE, default_flow_style=True, width=10**9).removesuffix("\n...\n")
    assert yaml.safe_load(f"key: {ours.strip()}  # a comment") == {"key": VALUE}
