package io.qalora.api;

import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Safetensors files and JSON bodies for the tests. */
final class Payloads {

    private Payloads() {
    }

    /** A layer [out, in] with weight values i / 10 (row-major index i) and bias -j / 10, or none. */
    static byte[] layer(int out, int in, boolean bias) {
        List<Tensor> tensors = new ArrayList<>();
        tensors.add(Tensor.f32("weight", new int[] {out, in}, ramp(out * in, 0.1f)));
        if (bias) {
            tensors.add(Tensor.f32("bias", new int[] {out}, ramp(out, -0.1f)));
        }
        return SafetensorsWriter.toBytes(Map.of(), tensors);
    }

    static byte[] regression(int rows, int in, int out) {
        return SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("inputs", new int[] {rows, in}, ramp(rows * in, 0.01f)),
                Tensor.f32("targets", new int[] {rows, out}, ramp(rows * out, 0.02f))));
    }

    static byte[] classification(int in, long... labels) {
        return SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("inputs", new int[] {labels.length, in}, ramp(labels.length * in, 0.01f)),
                Tensor.i64("labels", new int[] {labels.length}, labels)));
    }

    static float[] ramp(int n, float step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * step;
        }
        return v;
    }

    /** A JSON matrix [rows][cols] of value v. */
    static String matrix(int rows, int cols, String v) {
        StringBuilder json = new StringBuilder("[");
        for (int r = 0; r < rows; r++) {
            json.append(r == 0 ? "[" : ",[");
            for (int c = 0; c < cols; c++) {
                json.append(c == 0 ? "" : ",").append(v);
            }
            json.append(']');
        }
        return json.append(']').toString();
    }
}
