"""Three small data sets unlike Telco, made deterministically (nothing is downloaded).

Between them: headers with spaces, capitals and punctuation, blanks in numeric and
categorical columns, integer-coded categories, a string target and a 0/1 target, an ID
column, a constant column and a free-text column. Each :class:`DataSet` also says what
`nbprod new` should find in it and which fields a bad request can break.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

_WORDS = ("late", "payment", "called", "branch", "moved", "new", "job", "asked", "about",
          "rates", "refinance", "complaint", "resolved", "email", "visit", "follow", "up")


def _sentences(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(_WORDS, size=rng.integers(4, 9))) + f" #{i}" for i in range(n)]


def loans(rows: int = 1500, seed: int = 1) -> pd.DataFrame:
    """Credit scoring: a good/bad string target, a string ID, blanks, a constant, free text
    (declared ``kind: text``)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 76, rows)
    income = rng.lognormal(10.8, 0.5, rows).round(2)
    home = rng.choice(["own", "rent", "mortgage"], rows, p=[0.3, 0.45, 0.25])
    purpose = rng.choice(["car", "home improvement", "education", "debt consolidation"], rows)
    debt_ratio = rng.uniform(0, 1.2, rows).round(3)
    logit = -2.6 + 3.5 * debt_ratio - 0.04 * (age - 40) + 1.2 * (home == "rent") \
        - 1.0 * (income > 60000)
    bad = rng.random(rows) < 1 / (1 + np.exp(-logit))
    df = pd.DataFrame({
        "Customer ID": [f"C{100000 + i}" for i in range(rows)],
        "Age": age,
        "Annual Income ($)": income,
        "Home Ownership": home,
        "Loan Purpose": purpose,
        "DebtRatio": debt_ratio,
        "Country": "US",
        "Notes": _sentences(rng, rows),
        "Status": np.where(bad, "bad", "good"),
    })
    df.loc[rng.random(rows) < 0.05, "Annual Income ($)"] = np.nan
    df.loc[rng.random(rows) < 0.04, "Home Ownership"] = np.nan
    return df


def machines(rows: int = 1200, seed: int = 2) -> pd.DataFrame:
    """Machine failure: a 0/1 target, an integer ID, integer-coded categories, blanks."""
    rng = np.random.default_rng(seed)
    machine_type = rng.choice([1, 2, 3], rows)
    shift = rng.choice([10, 20, 30], rows)
    temperature = rng.normal(70, 8, rows).round(1)
    vibration = rng.gamma(2.0, 1.5, rows).round(3)
    hours = rng.integers(0, 20000, rows)
    logit = -2 + 0.12 * (temperature - 70) + 0.35 * vibration + 0.7 * (machine_type == 3) \
        + 0.00005 * hours
    failed = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({
        "Reading ID": np.arange(1, rows + 1),
        "Machine Type": machine_type,
        "Shift Code": shift,
        "Temperature (C)": temperature,
        "Vibration RMS": vibration,
        "Operating Hours": hours,
        "Plant": "Lyon",
        "Failed": failed,
    })
    df.loc[rng.random(rows) < 0.05, "Vibration RMS"] = np.nan
    return df


def tumours() -> pd.DataFrame:
    """scikit-learn's breast cancer data (on disk): spaced lowercase headers, a string target
    whose positive class is given explicitly, an integer patient number."""
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 2, 4, 6, 7, 20, 21, 27]].copy()
    frame.columns = [c.title() if i % 2 else c for i, c in enumerate(frame.columns)]
    frame.insert(0, "Patient No", np.arange(1000, 1000 + len(frame)))
    rng = np.random.default_rng(3)
    frame["Referral Source"] = rng.choice(["gp", "screening", "specialist"], len(frame))
    frame.loc[rng.random(len(frame)) < 0.05, "Referral Source"] = np.nan
    frame["Diagnosis"] = np.where(data.target == 0, "malignant", "benign")
    return frame


def wines() -> pd.DataFrame:
    """scikit-learn's wine data (on disk): three cultivars, a multiclass string target."""
    data = load_wine(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 4, 6, 9, 11, 12]].copy()
    frame.columns = [c.replace("_", " ").title() for c in frame.columns]
    frame["Cultivar"] = np.asarray(["barolo", "grignolino", "barbera"])[data.target]
    return frame


def diabetes() -> pd.DataFrame:
    """scikit-learn's diabetes data (on disk): a disease progression score to regress on, ten
    scaled features (sex among them, two values), and a visit number."""
    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.frame.copy()
    frame.insert(0, "Visit No", np.arange(5000, 5000 + len(frame)))
    frame = frame.rename(columns={"target": "Progression", "bmi": "BMI", "bp": "Blood Pressure"})
    return frame


@dataclass(frozen=True)
class DataSet:
    name: str                   # the project's name
    frame: pd.DataFrame
    target: str                 # as passed to --target
    positive: str | None        # as passed to --positive (None: let nbprod new choose)
    expected_positive: object
    dropped: dict[str, str]     # raw header -> the start of the reason
    bad_category: tuple[str, object]  # (field, value) a request may not send
    out_of_range: tuple[str, object]
    renamed: dict[str, str] = field(default_factory=dict)  # raw header -> field name

    def write(self, folder: Path, suffix: str = ".csv") -> Path:
        path = folder / f"{self.name}{suffix}"
        if suffix == ".parquet":
            self.frame.to_parquet(path, index=False)
        else:
            self.frame.to_csv(path, index=False)
        return path


DATASETS = {
    "credit": DataSet(
        "credit", loans(), target="Status", positive=None, expected_positive="bad",
        dropped={"Customer ID": "id-like", "Country": "constant"},
        bad_category=("home_ownership", "castle"), out_of_range=("age", 250),
        renamed={"Annual Income ($)": "annual_income", "DebtRatio": "debt_ratio"},
    ),
    "machines": DataSet(
        "machines", machines(), target="Failed", positive="1", expected_positive=1,
        dropped={"Reading ID": "id-like", "Plant": "constant"},
        bad_category=("machine_type", 7), out_of_range=("temperature_c", 5000.0),
        renamed={"Temperature (C)": "temperature_c", "Vibration RMS": "vibration_rms"},
    ),
    "tumours": DataSet(
        "tumours", tumours(), target="diagnosis", positive="malignant",
        expected_positive="malignant",
        dropped={"Patient No": "id-like"},
        bad_category=("referral_source", "hospital"), out_of_range=("mean_texture", -500.0),
        renamed={"mean radius": "mean_radius", "Mean Texture": "mean_texture"},
    ),
}


#: a data set of each other model kind: name -> (data set, kind, the gate's primary metric)
KIND_DATASETS = {
    "wine": (DataSet(
        "wine", wines(), target="Cultivar", positive=None, expected_positive=None, dropped={},
        bad_category=("alcohol", "strong"), out_of_range=("alcohol", 1000.0),
    ), "multiclass", "macro_f1"),
    "diabetes": (DataSet(
        "diabetes", diabetes(), target="Progression", positive=None, expected_positive=None,
        dropped={"Visit No": "id-like"}, bad_category=("sex", 7), out_of_range=("bmi", 1000.0),
    ), "regression", "r2"),
}
