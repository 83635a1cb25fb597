package io.qalora.job;

/** What a dataset's rows are learned against. */
public enum DatasetKind {
    /** Float {@code targets [n, out]}, mean squared error. */
    REGRESSION,
    /** Integer {@code labels [n]}, softmax cross-entropy. */
    CLASSIFICATION
}
