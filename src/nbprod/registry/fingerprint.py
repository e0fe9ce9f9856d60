"""The fingerprint of a candidate model: what it was built from, not what it is.

Two builds of the same code, parameters and data make the same model (the pipeline
seeds every random step), so a rebuild must not register a duplicate version or move
production. The fingerprint is the sha256 of, from the registration metadata:

- ``git.commit``: the code of the project (notebooks, pipeline.yaml, env.yaml, src/);
- ``parameters``: what every task ran with (its injected parameters, paths relative);
- ``data``: the sha256 of every input data file.

It is deliberately independent of the artifact's bytes (skops archives carry
timestamps) and of the metrics (they follow from the above). There is no fingerprint,
and every build registers a new version, when the code cannot be identified: outside
a git checkout (``commit: unknown``) or with uncommitted changes to tracked files
(``dirty: true``), since the commit then does not say what ran. Untracked files and
installed package versions do not count.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: The metadata keys a fingerprint covers, in the order they are hashed.
INPUTS = ("git.commit", "parameters", "data.*.sha256")


def fingerprint(metadata: dict[str, Any]) -> str | None:
    """The hex sha256 of a candidate's inputs, or None when its code cannot be identified."""
    git = metadata.get("git") or {}
    commit = git.get("commit")
    if not commit or commit == "unknown" or git.get("dirty") is not False:
        return None
    data = {name: (entry or {}).get("sha256") for name, entry in (metadata.get("data") or {}).items()}
    payload = {"commit": commit, "parameters": metadata.get("parameters") or {}, "data": data}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
