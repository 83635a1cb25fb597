package io.qalora.api;

/** JSON has no NaN or infinity: such a loss (of a diverged run) is reported as absent. */
final class Numbers {

    private Numbers() {
    }

    static Double finite(Double value) {
        return value == null || !Double.isFinite(value) ? null : value;
    }
}
