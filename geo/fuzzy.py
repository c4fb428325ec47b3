"""Fuzzy membership functions and overlay operators, in float32, NaN meaning "no evidence here".

Operator definitions (Bonham-Carter 1994, *Geographic Information Systems for Geoscientists*, ch. 9;
the gamma operator after Zimmermann & Zysno 1980; as implemented by EIS Toolkit), for memberships
mu_1..mu_n of one cell:

- AND: min(mu_i)                        - OR: max(mu_i)
- algebraic product: prod(mu_i)         - algebraic sum: 1 - prod(1 - mu_i)
- gamma: (algebraic sum) ** g * (algebraic product) ** (1 - g),  0 <= g <= 1

Missing memberships (NaN) are left out of the combination; a cell with none is NaN.
"""
from __future__ import annotations

import numpy as np

OPERATORS = ("and", "or", "product", "sum", "gamma")


def _stack(layers) -> np.ndarray:
    return np.stack([np.asarray(a, dtype=np.float32) for a in layers])


def _none_present(s: np.ndarray) -> np.ndarray:
    return np.isnan(s).all(axis=0)


def fuzzy_and(layers) -> np.ndarray:
    s = _stack(layers)
    out = np.fmin.reduce(s, axis=0)
    return out


def fuzzy_or(layers) -> np.ndarray:
    s = _stack(layers)
    return np.fmax.reduce(s, axis=0)


def fuzzy_product(layers) -> np.ndarray:
    s = _stack(layers)
    out = np.nanprod(s, axis=0, dtype=np.float32)
    out[_none_present(s)] = np.nan
    return out


def fuzzy_sum(layers) -> np.ndarray:
    s = _stack(layers)
    out = np.float32(1) - np.nanprod(np.float32(1) - s, axis=0, dtype=np.float32)
    out[_none_present(s)] = np.nan
    return out


def fuzzy_gamma(layers, gamma: float) -> np.ndarray:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma!r}")
    layers = list(layers)
    g = np.float32(gamma)
    return (fuzzy_sum(layers) ** g * fuzzy_product(layers) ** (np.float32(1) - g)).astype(np.float32)


def combine(operator: str, layers, gamma: float | None = None) -> np.ndarray:
    """Combine membership arrays with one of :data:`OPERATORS`."""
    if operator == "gamma":
        return fuzzy_gamma(layers, 0.9 if gamma is None else gamma)
    fn = {"and": fuzzy_and, "or": fuzzy_or, "product": fuzzy_product, "sum": fuzzy_sum}.get(operator)
    if fn is None:
        raise ValueError(f"unknown fuzzy operator {operator!r}; use one of {', '.join(OPERATORS)}")
    return fn(layers)


def linear_decay(distance: np.ndarray, near, far, high: float = 1.0, low: float = 0.0) -> np.ndarray:
    """Membership ``high`` up to ``near``, falling linearly to ``low`` at ``far`` and beyond.

    ``near`` and ``far`` may be arrays broadcasting with ``distance`` (e.g. per-feature radii).
    """
    d = np.asarray(distance, dtype=np.float32)
    near = np.asarray(near, dtype=np.float32)
    far = np.asarray(far, dtype=np.float32)
    t = np.clip((far - d) / np.maximum(far - near, np.float32(1e-6)), 0, 1)
    return (np.float32(low) + (np.float32(high) - np.float32(low)) * t).astype(np.float32)
