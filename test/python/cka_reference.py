"""
Linear CKA computed directly with numpy, the reference for healbert's src/measure/cka.ts
(test/measure/cka-numpy.test.ts calls this with the pip-torch lane's python).

  cka_reference.py
      stdin: {"pairs": [{"x": [[...]], "y": [[...]]}, ...]} (rows are examples); stdout: {"linear": [...],
      "debiased": [...]}, one value per pair.

The formulas are those of Kornblith et al.'s published CKA notebook (gram_linear, center_gram, cka), written
out here from the definitions rather than copied from healbert: the biased estimator centres the Gram matrix
with H = I - 11'/n; the debiased one uses the U-centring of Szekely and Rizzo (2014), whose inner products
are the unbiased HSIC estimator of Song et al. (2012). No centring of the features happens here, so the
comparison also checks that healbert's column centring does not change the value.
"""

import json
import sys

import numpy as np


def center_gram(gram, unbiased):
    gram = gram.astype(np.float64).copy()
    n = gram.shape[0]
    if unbiased:
        np.fill_diagonal(gram, 0)
        means = np.sum(gram, 0) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        h = np.eye(n) - np.ones((n, n)) / n
        gram = h @ gram @ h
    return gram


def cka(x, y, debiased):
    kx = center_gram(x @ x.T, debiased)
    ky = center_gram(y @ y.T, debiased)
    return float(kx.ravel() @ ky.ravel() / (np.linalg.norm(kx) * np.linalg.norm(ky)))


def main():
    pairs = json.load(sys.stdin)["pairs"]
    out = {"linear": [], "debiased": []}
    for pair in pairs:
        x = np.asarray(pair["x"], dtype=np.float64)
        y = np.asarray(pair["y"], dtype=np.float64)
        out["linear"].append(cka(x, y, False))
        out["debiased"].append(cka(x, y, True))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
