"""Which command a message asks for: a linear classifier over the words, word pairs and
character n-grams of the masked, folded text, trained at start-up from the phrasing the
commands declare and the corpus that ships in the repository.

The model is a linear support-vector machine, one intent against the rest, each feature
weighted by how rare it is (tf-idf) and every message scaled to unit length. It is trained by
dual coordinate descent (the method of LIBLINEAR, which scikit-learn's `LinearSVC` wraps), all
intents at once with NumPy, in a few seconds. Why not scikit-learn itself: it scores the same
on the held-out corpus, and importing it (with SciPy) adds about 90 MB to every replica.
Training is deterministic (a fixed order of visits), so every replica and every run reads the
same text the same way.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Passes over the training data: the held-out accuracy no longer moves after five or six.
EPOCHS = 6
# How much a misread training example costs against a simple model (the SVM's C).
PENALTY = 3.0
# Softmax temperature that turns scores into probabilities; calibrated on the training part
# (bench/understanding.py prints how confident readings fare on the held-out part).
TEMPERATURE = 0.2
_VISIT_SEED = 7


def features(text: str, who: str = "") -> list[str]:
    """Word unigrams and bigrams, the first four letters of longer words (German compounds
    and inflections share them), character 3–5-grams inside each word and 4-grams across
    word boundaries. With `who` (the writer's role), the words and word pairs once more as
    that role's: the same words mean different things by role (a contact's "open tickets"
    are their own, an engineer's the whole queue)."""
    words = text.split()
    found = [f"w:{word}" for word in words]
    found += [f"b:{a}|{b}" for a, b in zip(["^", *words], [*words, "$"], strict=True)]
    if who:
        found += [f"{who}|{feature}" for feature in found]
    found += [f"p:{word[:4]}" for word in words if len(word) > 4]
    for word in words:
        if word.startswith("_") and word.endswith("_"):
            continue  # a placeholder is one feature, not its letters
        padded = f" {word} "
        for size in (3, 4, 5):
            found += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    joined = f" {text} "
    found += [
        f"x:{joined[i : i + 4]}" for i in range(len(joined) - 3) if " " in joined[i + 1 : i + 3]
    ]
    return list(dict.fromkeys(found))  # presence, not counts


@dataclass(frozen=True, slots=True)
class Example:
    """A training example: a masked text, what it means and whose words they are ("" when
    anyone's: the phrasing a command declares)."""

    text: str
    intent: str
    who: str = ""


@dataclass(frozen=True, slots=True)
class Ranked:
    """One reading of a message and how likely it is."""

    intent: str
    probability: float


class LinearClassifier:
    """See the module docstring. Built by `train`, or `load`ed as `save` left it."""

    def __init__(
        self,
        intents: Sequence[str],
        vocabulary: Sequence[str],
        idf: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
    ) -> None:
        self.intents: tuple[str, ...] = tuple(intents)
        self._vocabulary = {feature: i for i, feature in enumerate(vocabulary)}
        self._idf, self._weights, self._bias = idf, weights, bias

    @classmethod
    def train(cls, examples: Iterable[Example]) -> LinearClassifier:
        data = list(examples)
        found = [features(e.text, e.who) for e in data]
        # every feature, numbered in order of first use
        vocabulary = {f: i for i, f in enumerate(dict.fromkeys(f for each in found for f in each))}
        intents = sorted({e.intent for e in data})
        index = {intent: i for i, intent in enumerate(intents)}
        encoded = [
            (_ids_of(each, vocabulary), index[e.intent])
            for each, e in zip(found, data, strict=True)
        ]
        idf = _inverse_document_frequency(len(vocabulary), [ids for ids, _ in encoded])
        rows = [
            (ids, _unit_length(idf[ids]).astype(np.float32), truth)
            for ids, truth in encoded
            if len(ids)
        ]
        weights, bias = _dual_coordinate_descent(rows, len(vocabulary), len(intents))
        return cls(intents, list(vocabulary), idf, weights, bias)

    def save(self, path: Path) -> None:
        """Written whole or not at all (replicas may start side by side): NumPy arrays only,
        nothing that runs code when it is read back."""
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        with part.open("wb") as out:
            np.savez(
                out,
                intents=np.array(self.intents),
                # one line per feature (features hold no whitespace), as UTF-8 bytes: a tenth of
                # the size of a NumPy string array
                vocabulary=np.frombuffer("\n".join(self._vocabulary).encode(), dtype=np.uint8),
                idf=self._idf,
                weights=self._weights,
                bias=self._bias,
            )
        os.replace(part, path)

    @classmethod
    def load(cls, path: Path) -> LinearClassifier:
        with np.load(path, allow_pickle=False) as saved:
            return cls(
                [str(i) for i in saved["intents"]],
                saved["vocabulary"].tobytes().decode().split("\n"),
                saved["idf"],
                saved["weights"],
                saved["bias"],
            )

    def _ids(self, text: str, who: str) -> npt.NDArray[np.intp]:
        return _ids_of(features(text, who), self._vocabulary)

    def rank(self, text: str, who: str = "") -> list[Ranked]:
        """Every intent with its probability, most likely first, for a writer of role `who`
        ("" when unknown)."""
        ids = self._ids(text, who)
        if not len(ids):
            return [Ranked(i, 1 / len(self.intents)) for i in self.intents]
        scores = _unit_length(self._idf[ids]) @ self._weights[ids] + self._bias
        exps = np.exp((scores - scores.max()) / TEMPERATURE)
        probabilities = exps / exps.sum()
        ranked = [Ranked(i, float(p)) for i, p in zip(self.intents, probabilities, strict=True)]
        return sorted(ranked, key=lambda r: (-r.probability, r.intent))

    def familiarity(self, text: str) -> float:
        """The share of the letter triples of `text`'s words (placeholders aside) seen in
        training: near 1 for any German or English, low for "hgfds"."""
        triples = [
            f" {word} "[i : i + 3]
            for word in text.split()
            if not word.startswith("_")
            for i in range(len(word))
        ]
        if not triples:
            return 1.0
        return sum(triple in self._vocabulary for triple in triples) / len(triples)

    def weights_bytes(self) -> int:
        """The size of the trained weights (for the benchmark)."""
        return int(self._weights.nbytes)

    def known_words(self) -> Sequence[str]:
        """The words seen in training (for spelling repair)."""
        return [f[2:] for f in self._vocabulary if f.startswith("w:")]


def _ids_of(found: list[str], vocabulary: dict[str, int]) -> npt.NDArray[np.intp]:
    """The numbers of the known features among `found`, each once, in order."""
    return np.array(sorted({vocabulary[f] for f in found if f in vocabulary}), dtype=np.intp)


def _unit_length(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A feature counts by how rare it is (its idf: a word every message has says little),
    the whole message scaled to unit length."""
    norm = float(np.linalg.norm(values))
    return values / norm if norm else values


def _dual_coordinate_descent(
    rows: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float32], int]],
    features_count: int,
    intents: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Dual coordinate descent for the L2-regularised squared-hinge SVM (Hsieh et al.,
    2008), one binary problem per intent, solved side by side: each visit of an example
    moves its dual variables of every intent at once. The bias is a feature of value 1."""
    # float32 throughout: half the memory to move per step (twice as fast), the same model
    real = np.float32
    weights = np.zeros((features_count, intents), dtype=real)
    bias = np.zeros(intents, dtype=real)
    duals = np.zeros((len(rows), intents), dtype=real)
    diagonal = 1 / (2 * PENALTY)
    signs = np.where(np.eye(intents, dtype=bool), 1.0, -1.0).astype(real)  # +1 for intent t
    curvature = 1 + 1 + diagonal  # |x|² (unit length) + the bias feature's 1² + D
    # a fixed seed: the same model on every replica and run (not for anything secret)
    visits = random.Random(_VISIT_SEED)  # noqa: S311
    order = list(range(len(rows)))
    for _ in range(EPOCHS):
        visits.shuffle(order)
        for i in order:
            ids, values, truth = rows[i]
            sign, dual = signs[truth], duals[i]
            gradient = sign * (values @ weights[ids] + bias) - 1 + diagonal * dual
            updated = np.maximum(dual - gradient / curvature, 0)
            step = (updated - dual) * sign
            if step.any():
                duals[i] = updated
                weights[ids] += values[:, np.newaxis] * step
                bias += step
    return weights, bias


def _inverse_document_frequency(
    size: int, documents: list[npt.NDArray[np.intp]]
) -> npt.NDArray[np.float64]:
    """log((1 + n) / (1 + df)) + 1 per feature, as in the usual tf-idf."""
    frequency = np.zeros(size)
    for ids in documents:
        frequency[ids] += 1
    return np.log((1 + len(documents)) / (1 + frequency)) + 1
