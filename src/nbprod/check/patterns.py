"""Text patterns the rules look for: paths, secrets, installs, directory changes."""

from __future__ import annotations

import math
import re
from collections import Counter

DATA_SUFFIXES = (
    ".csv", ".tsv", ".parquet", ".feather", ".arrow", ".json", ".jsonl", ".xlsx", ".xls",
    ".pkl", ".pickle", ".joblib", ".h5", ".hdf5", ".npy", ".npz", ".sqlite", ".db", ".avro",
    ".orc", ".gz", ".zip", ".bz2", ".xz", ".zst", ".txt",
)
_ABSOLUTE = re.compile(r"^(?:/[^/\s]+/|~[/\\]|[A-Za-z]:[\\/]|\\\\[^\\\s]+\\)")
_DATA_DIR = re.compile(r"^(?:\.\.?/)*(?:data|datasets?|raw|input|output|products?)/", re.I)


def is_absolute_path(text: str) -> bool:
    return "://" not in text and not any(c in text for c in "\n\t") and bool(_ABSOLUTE.match(text))


def is_data_path(text: str) -> bool:
    """A relative path literal naming a data file or folder: ``'data/x.csv'``, ``'clean.parquet'``."""
    if any(c.isspace() for c in text) or "://" in text or "{" in text or len(text) > 300:
        return False
    lowered = text.lower()
    if lowered.startswith(".") and "/" not in lowered:
        return False  # a bare suffix: ".csv"
    return lowered.endswith(DATA_SUFFIXES) or bool(_DATA_DIR.match(text))


SECRET_PATTERNS: dict[str, re.Pattern] = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    "API secret key": re.compile(r"\b(?:sk|rk)[-_](?:live[-_]|test[-_]|proj[-_]|ant[-_])?[A-Za-z0-9_\-]{20,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.\-]*://[^/\s:@'\"]+:[^/\s:@'\"{}]+@"),
}

#: Variable, keyword or dict-key names whose string value is a secret.
SECRET_NAME = re.compile(
    r"(?i)(?:^|_)(?:pass(?:word|wd)?|pwd|secret|token|api_?key|apikey|access_?key|"
    r"private_?key|client_?secret|credentials?|auth)(?:$|_)"
)

_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(text: str) -> bool:
    """A token-like literal (no spaces, letters and digits mixed) with the entropy of a
    generated key: at least 3.0 bits/char for 32+ hex digits, 4.0 for 20+ other chars."""
    if len(text) < 20 or not _TOKEN_CHARS.match(text):
        return False
    if not (any(c.isdigit() for c in text) and any(c.isalpha() for c in text)):
        return False
    if _HEX.match(text):
        return len(text) >= 32 and shannon_entropy(text) >= 3.0
    return shannon_entropy(text) >= 4.0


def redact(secret: str) -> str:
    """Enough of a secret to find it, not enough to use it."""
    return f"{secret[:4]}... ({len(secret)} chars)"


INSTALL = re.compile(
    r"^\s*(?:!|%{1,2})\s*(?:pip3?|conda|mamba|micromamba|uv\s+pip|python3?\s+-m\s+pip)\s+"
    r"(?:install|uninstall|update|upgrade|remove|add)\b"
)
CHANGE_DIR = re.compile(r"^\s*%(?:cd|pushd)\b\s*(?P<target>.*?)\s*(?:#.*)?$")
