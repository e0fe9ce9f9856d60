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
_OTHER_ABSOLUTE = re.compile(r"^(?:~[/\\]|[A-Za-z]:[\\/]|\\\\[^\\\s]+\\)")
_DATA_DIR = re.compile(r"^(?:\.\.?/)*(?:data|datasets?|raw|input|output|products?)/", re.I)
#: First folders of an absolute POSIX path on a person's machine, a server or a notebook
#: service. Another ``/a/b/`` string is taken for a URL route (``/api/v1/predict/``)
#: unless it names a data file.
FILESYSTEM_ROOTS = frozenset({
    "home", "Users", "tmp", "var", "mnt", "opt", "srv", "root", "media", "Volumes", "usr",
    "etc", "private", "data", "datasets", "scratch", "nfs", "shared", "dbfs", "content",
    "kaggle", "workspace", "Workspace", "gpfs", "lustre", "storage", "export", "efs", "s3",
})
_GLOB = re.compile(r"[*?\[]")


def is_absolute_path(text: str) -> bool:
    """``/home/ana/raw.csv``, ``~/data``, ``C:\\data``: a path that only exists on one machine."""
    if "://" in text or any(c in text for c in "\n\t") or len(text) > 300:
        return False
    if _OTHER_ABSOLUTE.match(text):
        return True
    if not text.startswith("/") or text.startswith("//"):
        return False
    parts = [p for p in text.split("/") if p]
    if not parts:
        return False
    return parts[0] in FILESYSTEM_ROOTS or (len(parts) > 1 and
                                            text.lower().endswith(DATA_SUFFIXES))


def is_data_path(text: str) -> bool:
    """A relative path literal naming a data file or folder: ``'data/x.csv'``, ``'clean.parquet'``.
    A glob (``'*.parquet'``) is a pattern, not a path."""
    if any(c.isspace() for c in text) or "://" in text or "{" in text or len(text) > 300:
        return False
    if _GLOB.search(text):
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
    "bearer token": re.compile(r"\bBearer\s+(?=[A-Za-z0-9._~+/-]*[0-9])(?=[A-Za-z0-9._~+/-]*[a-z])"
                               r"[A-Za-z0-9._~+/-]{16,}=*"),
}

#: Variable, attribute, keyword or dict-key names whose string value is a secret: the
#: name ends with the secret word (``db_password``, ``openai.api_key``, ``client_secret``),
#: so ``secret_santa`` or ``auth='oauth2'`` (a method, not a credential) are not.
SECRET_NAME = re.compile(
    r"(?i)(?:^|[_\-.])(?:pass(?:word|wd)?|pwd|secret|token|api_?key|apikey|access_?key|"
    r"secret_?key|private_?key|client_?secret|credentials?|auth_?token|authorization)\d*$"
)
_PLACEHOLDER = re.compile(
    r"^(?:[<\[{$]|%\().*|^[xX*.\-#]{3,}$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|"
    r"(?i:.*(?:your|changeme|change_me|placeholder|replace_?me|example|insert|redacted|dummy).*)"
)


def is_placeholder(value: str) -> bool:
    """``"YOUR_API_KEY"``, ``"<token>"``, ``"xxxx"``, ``"${TOKEN}"``: a value to fill in, no secret."""
    return bool(_PLACEHOLDER.match(value.strip()))

_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


#: Lengths of the hex digests of md5 is left out: sha1 (40), sha256 (64), sha512 (128).
DIGEST_LENGTHS = (40, 64, 128)
_WORD = re.compile(r"^(?:[a-z]+\d*|\d+[a-z]*|[A-Z][a-z]*\d*|[A-Z]+\d*)$")


def is_wordlike(text: str) -> bool:
    """Words joined by ``-``, ``_`` or ``.`` (task names, column names, file stems):
    each part one lower-case, Capitalised or upper-case word, or a number."""
    parts = [p for p in re.split(r"[-_.]+", text) if p]
    return len(parts) > 1 and all(_WORD.match(p) for p in parts)


def looks_random(text: str) -> bool:
    """A token-like literal (no spaces, letters and digits mixed) with the entropy of a
    generated key: at least 3.0 bits/char for 32+ hex digits, 4.0 for 20+ other chars.
    Hex digests (sha1, sha256, sha512) and word-like names are not keys."""
    if len(text) < 20 or not _TOKEN_CHARS.match(text):
        return False
    if not (any(c.isdigit() for c in text) and any(c.isalpha() for c in text)):
        return False
    if _HEX.match(text):
        return len(text) >= 32 and len(text) not in DIGEST_LENGTHS and shannon_entropy(text) >= 3.0
    if is_wordlike(text):
        return False
    return shannon_entropy(text) >= 4.0


def redact(secret: str) -> str:
    """Enough of a secret to find it, not enough to use it."""
    return f"{secret[:4]}... ({len(secret)} chars)"


_PYTHON = r"(?:python3?(?:\.\d+)?|\"?\{sys\.executable\}\"?|\$\{?PYTHON\}?)"
INSTALL = re.compile(
    r"^\s*(?:!|%{1,2})\s*(?:pip3?|conda|mamba|micromamba|uv\s+pip|" + _PYTHON + r"\s+-m\s+pip)\s+"
    r"(?:install|uninstall|update|upgrade|remove|add)\b"
)
#: The same command inside a string given to a shell (``os.system("pip install x")``).
SHELL_INSTALL = re.compile(
    r"(?:^|[;&|]\s*)(?:pip3?|conda|mamba|uv\s+pip|python3?\s+-m\s+pip)\s+(?:install|uninstall)\b"
)
CHANGE_DIR = re.compile(r"^\s*%(?:cd|pushd)\b\s*(?P<target>.*?)\s*(?:#.*)?$")
