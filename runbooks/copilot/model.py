"""The copilot's model: per field, a linear SVM over TF-IDF word (1–2) and character (2–5, within
word boundaries) n-grams, with sigmoid-calibrated probabilities (scikit-learn, pinned in
pyproject.toml). scikit-learn is used to *fit* only: the fitted model is turned into plain numpy
arrays (vocabularies, idf weights, one weight matrix, the calibration's a and b), which is all
`Predictor` needs — a prediction is one sparse dot product, well under a millisecond, and the
artefact is a versioned blob on `CopilotModel`, not a pickle.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

FIELDS = ("category", "severity", "issue_type", "environment")
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
TOKEN = re.compile(r"(?u)\b\w\w+\b")
SPACES = re.compile(r"\s\s+")
C = 0.5


def ticket_text(subject: str, body: str) -> str:
    return f"{subject}\n{subject}\n{body}"


def _word_ngrams(text: str) -> list[str]:
    tokens = TOKEN.findall(text.lower())
    grams = list(tokens)
    for n in range(2, WORD_NGRAMS[1] + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _char_ngrams(text: str) -> list[str]:
    """scikit-learn's char_wb analyzer, line for line (a test holds the two equal)."""
    grams = []
    for w in SPACES.sub(" ", text.lower()).split():
        w = f" {w} "
        for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
            offset = 0
            grams.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                grams.append(w[offset : offset + n])
            if offset == 0:
                break
    return grams


@dataclass
class Predictor:
    """A fitted model as arrays. `predict(text)` → {field: {label: probability}}."""

    vocab: tuple[dict[str, int], dict[str, int]]
    idf: tuple[np.ndarray, np.ndarray]
    classes: dict[str, list[str]]
    weights: dict[str, np.ndarray]  # (n_features, n_classes) — binary: one column
    bias: dict[str, np.ndarray]
    calib: dict[str, np.ndarray]  # (2, n_columns): a, b
    version: int = 0
    scope: str = "global"  # set when loaded from its CopilotModel row: "global" or "tenant"
    tenant_id: int | None = None

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        indices, values = [], []
        offset = 0
        for analyzer, vocab, idf in (
            (_word_ngrams, self.vocab[0], self.idf[0]),
            (_char_ngrams, self.vocab[1], self.idf[1]),
        ):
            counts = Counter(i for g in analyzer(text) if (i := vocab.get(g)) is not None)
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                val = (1.0 + np.log(tf)) * idf[idx]
                val /= math.sqrt(float(val @ val)) or 1.0
                indices.append(idx + offset)
                values.append(val)
            offset += len(vocab)
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(indices), np.concatenate(values)

    def predict(self, text: str) -> dict[str, dict[str, float]]:
        idx, val = self._vector(text)
        out = {}
        for field, classes in self.classes.items():
            decision = val @ self.weights[field][idx] + self.bias[field] if len(idx) else self.bias[field].copy()
            a, b = self.calib[field]
            p = 1.0 / (1.0 + np.exp(a * decision + b))
            if len(classes) == 2:
                p = np.array([1.0 - p[0], p[0]])
            else:
                total = p.sum()
                p = p / total if total > 0 else np.full(len(classes), 1.0 / len(classes))
            out[field] = dict(zip(classes, (float(x) for x in p), strict=True))
        return out

    # --- the artefact ---------------------------------------------------------------------------

    def dumps(self) -> bytes:
        meta = {"vocab": self.vocab, "classes": self.classes, "version": self.version}
        arrays = {"idf0": self.idf[0], "idf1": self.idf[1], "meta": np.array(json.dumps(meta))}
        for field in self.classes:
            arrays[f"w_{field}"] = self.weights[field].astype(np.float32)
            arrays[f"b_{field}"] = self.bias[field]
            arrays[f"c_{field}"] = self.calib[field]
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes) -> Predictor:
        data = np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        classes = meta["classes"]
        return cls(
            vocab=(meta["vocab"][0], meta["vocab"][1]),
            idf=(data["idf0"], data["idf1"]),
            classes=classes,
            weights={f: data[f"w_{f}"].astype(np.float64) for f in classes},
            bias={f: data[f"b_{f}"] for f in classes},
            calib={f: data[f"c_{f}"] for f in classes},
            version=meta["version"],
        )


def fit(texts: list[str], labels: dict[str, list[str]], *, version: int = 0) -> Predictor:
    """Fit one calibrated linear SVM per field in `labels` on `texts` (scikit-learn), and return it
    as a `Predictor`. A field with a single label is left out (nothing to learn)."""
    from scipy.sparse import hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    word = TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, sublinear_tf=True, min_df=1, dtype=np.float64)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, min_df=2, max_features=60000, dtype=np.float64
    )
    X = hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    classes, weights, bias, calib = {}, {}, {}, {}
    for field, y in labels.items():
        counts = Counter(y)
        if len(counts) < 2:
            continue
        folds = min(3, min(counts.values()))
        svm = LinearSVC(C=C, dual="auto", max_iter=5000)
        if folds >= 2:
            model = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False).fit(X, y)
            fitted = model.calibrated_classifiers_[0]
            estimator, calibrators = fitted.estimator, fitted.calibrators
            ab = np.array([[c.a_ for c in calibrators], [c.b_ for c in calibrators]])
            names = [str(c) for c in model.classes_]
        else:
            estimator = svm.fit(X, y)
            ab = np.array([[-2.0] * estimator.coef_.shape[0], [0.0] * estimator.coef_.shape[0]])
            names = [str(c) for c in estimator.classes_]
        classes[field] = names
        weights[field] = np.ascontiguousarray(estimator.coef_.T)
        bias[field] = np.asarray(estimator.intercept_, dtype=np.float64)
        calib[field] = ab
    vocab = (
        {k: int(v) for k, v in word.vocabulary_.items()},
        {k: int(v) for k, v in char.vocabulary_.items()},
    )
    return Predictor(
        vocab=vocab,
        idf=(word.idf_, char.idf_),
        classes=classes,
        weights=weights,
        bias=bias,
        calib=calib,
        version=version,
    )


def fit_tickets(tickets: list[dict], *, version: int = 0) -> Predictor:
    """`fit` on labelled tickets in the evaluation file's format."""
    texts = [ticket_text(t["subject"], t["body"]) for t in tickets]
    labels = {f: [str(t[f]) for t in tickets] for f in FIELDS if all(t.get(f) is not None for t in tickets)}
    return fit(texts, labels, version=version)
