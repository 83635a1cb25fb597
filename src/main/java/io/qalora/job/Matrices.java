package io.qalora.job;

import io.qalora.InvalidParameterException;

/** Nested JSON arrays to row-major arrays, with the field named when rows are ragged. */
public final class Matrices {

    private Matrices() {
    }

    public static float[] flatten(String field, float[][] rows) {
        InvalidParameterException.require(rows.length > 0, field, "must hold at least one row");
        int cols = rows[0] == null ? 0 : rows[0].length;
        InvalidParameterException.require(cols > 0, field, "rows must not be empty");
        float[] flat = new float[Math.multiplyExact(rows.length, cols)];
        for (int r = 0; r < rows.length; r++) {
            InvalidParameterException.require(rows[r] != null && rows[r].length == cols, field,
                    "row " + r + " has " + (rows[r] == null ? 0 : rows[r].length) + " values, row 0 has " + cols);
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        return flat;
    }
}
