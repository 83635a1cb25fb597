"""GPTQ in NumPy: the reference generator for GptqQuantizerTests' golden values.

A transcription of IST-DASLab/gptq gptq.py `fasterquant` (act-order off, static_groups=False) with
the group quantizer of shared/spec/QUANTIZATION.md in float32, and everything else in float64.

    blocksize=1                    the unblocked loop: every group is fitted on the current,
                                   error-updated columns (what GptqQuantizer computes)
    blocksize=128, stale_fit=True  gptq.py as written: a group that starts inside a block is fitted
                                   on W, which gptq.py updates only at block ends

Run: python3 gptq_reference.py   (NumPy only)
"""
import numpy as np


def fit(v, bits, sym):
    v = v.astype(np.float32)
    maxq = np.float32(2 ** bits - 1)
    lo = min(np.float32(0), v.min())
    hi = max(np.float32(0), v.max())
    if sym:
        a = max(-lo, hi)
        lo, hi = -a, a
    if lo == hi:
        lo, hi = np.float32(-1), np.float32(1)
    scale = np.float32((hi - lo) / maxq)
    zero = np.float32((maxq + 1) / 2) if sym else np.float32(np.rint(np.float32(np.float32(0) - lo) / scale))
    return scale, zero


def quant(w, scale, zero, bits):
    q = np.float32(np.clip(np.rint(np.float32(w) / scale) + zero, 0, 2 ** bits - 1))
    return q, np.float32((q - zero) * scale)


def gptq(W, X, bits, group, sym, blocksize=1, percdamp=0.01, stale_fit=False):
    W = W.astype(np.float64).copy()
    rows, cols = W.shape
    H = 2.0 * X.astype(np.float64).T @ X.astype(np.float64) / X.shape[0]
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H[np.diag_indices(cols)] += percdamp * np.mean(np.diag(H))
    L_inv = np.linalg.inv(np.linalg.cholesky(H))
    Hinv = np.linalg.cholesky(L_inv.T @ L_inv).T  # cholesky(cholesky_inverse(cholesky(H)), upper=True)
    Q = np.zeros((rows, cols), np.int64)
    scales = np.zeros((rows, -(-cols // group)), np.float32)
    zeros = scales.copy()
    deq = np.zeros((rows, cols), np.float32)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = W[:, i1:i2].copy()
        Err1 = np.zeros_like(W1)
        for i in range(i2 - i1):
            c = i1 + i
            if c % group == 0:
                if stale_fit:
                    window = W[:, c:c + group]
                else:
                    current = np.concatenate([W1[:, i:], W[:, i2:] - Err1[:, :i] @ Hinv[i1:i1 + i, i2:]], axis=1)
                    window = current[:, :group]
                for r in range(rows):
                    scales[r, c // group], zeros[r, c // group] = fit(window[r], bits, sym)
            for r in range(rows):
                q, d = quant(W1[r, i], scales[r, c // group], zeros[r, c // group], bits)
                Q[r, c] = int(q)
                deq[r, c] = d
            err = (W1[:, i] - deq[:, c].astype(np.float64)) / Hinv[c, c]
            W1[:, i:] -= np.outer(err, Hinv[c, c:i2])
            Err1[:, i] = err
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    return Q, scales, zeros, deq, Hinv


def output_error(W, D, X):
    E = X.astype(np.float64) @ (W.astype(np.float64) - D.astype(np.float64)).T
    return float((E ** 2).sum())


if __name__ == "__main__":
    X = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 1, 0]], np.float32)
    show = lambda a: [np.format_float_positional(v, unique=True) for v in np.asarray(a).flatten()]
    W = np.array([[0.6, -0.8, -0.6, -0.5], [-0.6, 0.6, 0.7, 0.2]], np.float32)
    for sym in (False, True):
        Q, S, Z, D, Hinv = gptq(W, X, 2, 2, sym)
        print("sym" if sym else "asym", Q.flatten().tolist(), show(S), show(Z), show(D), output_error(W, D, X))
    Q, S, Z, D, _ = gptq(W, X, 2, 2, False, blocksize=128, stale_fit=True)
    print("gptq.py blocked", Q.flatten().tolist(), show(S), output_error(W, D, X))
    print("Hinv", Hinv.tolist())
    W2 = np.array([[0.3, -0.7, 0.2, 0.9], [0.6, 0.1, -0.4, 0.5]], np.float32)
    for pd in (0.01, 1e-6):
        Q, S, Z, D, _ = gptq(W2, X, 2, 2, False, percdamp=pd)
        print("counterexample", pd, Q.flatten().tolist(), output_error(W2, D, X))
