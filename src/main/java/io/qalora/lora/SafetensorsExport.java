package io.qalora.lora;

import io.qalora.quant.BitPacking;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.SafetensorsException;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsRule;
import io.qalora.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The service's own safetensors layouts of a merged quantized layer and of an adapter.
 *
 * <p>Merged layer: {@code weight.qcodes} (codes; with 1, 2, 4 or 8 bits packed low bits first
 * into U8 row by row, shape {@code [out, ceil(in * bits / 8)]}; with 3, 5, 6 or 7 bits one U8
 * per code; above 8 bits I32), {@code weight.scales} and {@code weight.zeros} (F32
 * {@code [out, groups]}), {@code weight} (the dequantized F32 {@code [out, in]}) and {@code bias};
 * the metadata names bits, group_size, symmetric, packing, the shape, and {@code zero_points}:
 * {@code integer} when every zero point is an integer in {@code [0, maxq]}, else {@code float} (a
 * POOLED_ZERO_POINT merge, whose {@code weight} is {@code (codes - zeros) * scales} with those floats).
 *
 * <p>Adapter: {@code lora_A [r, in]} and {@code lora_B [out, r]}; for POOLED_ZERO_POINT
 * {@code lora_A} is the pooled {@code [r, in / group_size]}.
 */
public final class SafetensorsExport {

    public static final String CODES = "weight.qcodes";
    public static final String SCALES = "weight.scales";
    public static final String ZEROS = "weight.zeros";
    public static final String WEIGHT = "weight";
    public static final String BIAS = "bias";

    private SafetensorsExport() {
    }

    /** How codes of {@code bits} bits are laid out in {@code weight.qcodes}. */
    public static String packing(int bits) {
        if (BitPacking.packable(bits)) {
            return bits == 8 ? "u8" : "u" + bits + "-lsb-first-per-row";
        }
        return bits < 8 ? "u8-unpacked" : "i32";
    }

    public static SafetensorsFile merged(MergedLayer layer, Map<String, String> extraMetadata) {
        QuantizedMatrix q = layer.weight();
        QuantSpec spec = q.spec();
        int out = q.rows();
        int in = q.cols();
        List<Tensor> tensors = new ArrayList<>();
        tensors.add(codes(q));
        tensors.add(Tensor.f32(SCALES, new int[] {out, q.groupsPerRow()}, q.scales()));
        tensors.add(Tensor.f32(ZEROS, new int[] {out, q.groupsPerRow()}, q.zeros()));
        tensors.add(Tensor.f32(WEIGHT, new int[] {out, in}, q.dequantized()));
        if (layer.bias() != null) {
            tensors.add(Tensor.f32(BIAS, new int[] {out}, layer.bias()));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "qalora-merged/1");
        metadata.put("bits", Integer.toString(spec.bits()));
        metadata.put("group_size", Integer.toString(spec.groupSize()));
        metadata.put("symmetric", Boolean.toString(spec.symmetric()));
        metadata.put("packing", packing(spec.bits()));
        metadata.put("zero_points", q.hasIntegerZeros() ? "integer" : "float");
        metadata.put("in_features", Integer.toString(in));
        metadata.put("out_features", Integer.toString(out));
        metadata.putAll(extraMetadata);
        return SafetensorsFile.of(metadata, tensors);
    }

    private static Tensor codes(QuantizedMatrix q) {
        int bits = q.spec().bits();
        int out = q.rows();
        int in = q.cols();
        if (BitPacking.packable(bits)) {
            int rowBytes = BitPacking.packedLength(in, bits);
            byte[] packed = new byte[out * rowBytes];
            char[] row = new char[in];
            for (int r = 0; r < out; r++) {
                System.arraycopy(q.codes(), r * in, row, 0, in);
                System.arraycopy(BitPacking.pack(row, bits), 0, packed, r * rowBytes, rowBytes);
            }
            return Tensor.u8(CODES, new int[] {out, rowBytes}, packed);
        }
        if (bits < 8) {
            byte[] bytes = new byte[out * in];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) q.codes()[i];
            }
            return Tensor.u8(CODES, new int[] {out, in}, bytes);
        }
        return Tensor.i32(CODES, new int[] {out, in}, q.codesAsInts());
    }

    /** Reads back what {@link #merged} wrote. */
    public static MergedLayer readMerged(SafetensorsFile file) {
        Map<String, String> m = file.metadata();
        int bits = intMeta(m, "bits");
        int in = intMeta(m, "in_features");
        int out = intMeta(m, "out_features");
        QuantSpec spec = new QuantSpec(bits, intMeta(m, "group_size"), Boolean.parseBoolean(m.get("symmetric")));
        long[] raw = file.require(CODES).toLongArray();
        char[] codes = new char[out * in];
        if (BitPacking.packable(bits)) {
            int rowBytes = BitPacking.packedLength(in, bits);
            byte[] rowPacked = new byte[rowBytes];
            for (int r = 0; r < out; r++) {
                for (int b = 0; b < rowBytes; b++) {
                    rowPacked[b] = (byte) raw[r * rowBytes + b];
                }
                System.arraycopy(BitPacking.unpack(rowPacked, bits, in), 0, codes, r * in, in);
            }
        } else {
            for (int i = 0; i < codes.length; i++) {
                codes[i] = (char) raw[i];
            }
        }
        QuantizedMatrix q = new QuantizedMatrix(spec, out, in, codes, file.require(SCALES).toFloatArray(),
                file.require(ZEROS).toFloatArray(), file.require(WEIGHT).toFloatArray());
        return new MergedLayer(q, file.find(BIAS).map(Tensor::toFloatArray).orElse(null));
    }

    /**
     * The adapter's factors {@code lora_A [r, in]} (for POOLED_ZERO_POINT the pooled {@code [r, in/g]})
     * and {@code lora_B [out, r]}, with rank, alpha, scaling and the quantization settings.
     */
    public static SafetensorsFile adapter(QaLoraAdapter adapter) {
        float[] a = adapter.loraA();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "qalora-adapter/1");
        metadata.put("rank", Integer.toString(adapter.rank()));
        metadata.put("alpha", Float.toString(adapter.alpha()));
        metadata.put("scaling", Float.toString(adapter.scaling()));
        metadata.put("rs_lora", Boolean.toString(adapter.rsLora()));
        metadata.put("quantization_target", adapter.quantizationTarget().name());
        metadata.put("bits", Integer.toString(adapter.quantizationBits()));
        metadata.put("group_size", Integer.toString(adapter.groupSize()));
        metadata.put("symmetric", Boolean.toString(adapter.quantSpec().symmetric()));
        metadata.put("in_features", Integer.toString(adapter.inFeatures()));
        metadata.put("out_features", Integer.toString(adapter.outFeatures()));
        return SafetensorsFile.of(metadata, List.of(
                Tensor.f32("lora_A", new int[] {adapter.rank(), a.length / adapter.rank()}, a),
                Tensor.f32("lora_B", new int[] {adapter.outFeatures(), adapter.rank()}, adapter.loraB())));
    }

    /**
     * An adapter that was not trained here but uploaded to be merged: its factors, rank, alpha,
     * scaling and the module it came from, with {@code spec}, the quantization its merge used. It
     * has no {@code quantization_target}, since no quantization-aware training produced it.
     */
    public static SafetensorsFile adapter(PeftAdapter adapter, QuantSpec spec) {
        float scaling = adapter.rsLora() ? (float) (adapter.alpha() / Math.sqrt(adapter.rank()))
                : adapter.alpha() / adapter.rank();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "qalora-adapter/1");
        metadata.put("rank", Integer.toString(adapter.rank()));
        metadata.put("alpha", Float.toString(adapter.alpha()));
        metadata.put("scaling", Float.toString(scaling));
        metadata.put("rs_lora", Boolean.toString(adapter.rsLora()));
        metadata.put("module", adapter.moduleName());
        metadata.put("bits", Integer.toString(spec.bits()));
        metadata.put("group_size", Integer.toString(spec.groupSize()));
        metadata.put("symmetric", Boolean.toString(spec.symmetric()));
        metadata.put("in_features", Integer.toString(adapter.inFeatures()));
        metadata.put("out_features", Integer.toString(adapter.outFeatures()));
        return SafetensorsFile.of(metadata, List.of(
                Tensor.f32("lora_A", new int[] {adapter.rank(), adapter.inFeatures()}, adapter.loraA()),
                Tensor.f32("lora_B", new int[] {adapter.outFeatures(), adapter.rank()}, adapter.loraB())));
    }

    /**
     * Reads back what either {@code adapter} method wrote, on module {@code moduleName}; null takes
     * the module the file names, else {@value PeftExport#DEFAULT_MODULE}. A pooled {@code lora_A}
     * (POOLED_ZERO_POINT) comes back expanded to the equivalent standard {@code [r, in]} one
     * ({@link QaLoraAdapter#standardLoraA()}).
     */
    public static PeftAdapter readAdapter(SafetensorsFile file, String moduleName) {
        Map<String, String> m = file.metadata();
        String module = moduleName != null ? moduleName : m.getOrDefault("module", PeftExport.DEFAULT_MODULE);
        int rank = intMeta(m, "rank");
        int in = intMeta(m, "in_features");
        float[] a = file.require("lora_A").toFloatArray();
        if (QuantizationTarget.POOLED_ZERO_POINT.name().equals(m.get("quantization_target"))) {
            int group = intMeta(m, "group_size");
            a = PooledZeroPointPath.expand(a, rank, in / group, group);
        }
        return new PeftAdapter(module, rank, in, intMeta(m, "out_features"), Float.parseFloat(m.get("alpha")),
                Boolean.parseBoolean(m.get("rs_lora")), a, file.require("lora_B").toFloatArray());
    }

    /**
     * The PEFT checkpoint zip of an adapter file that an {@code adapter} method wrote, on module
     * {@code moduleName} (null: as {@link #readAdapter}). A trained adapter's config carries its
     * QA-LoRA settings; an uploaded one's is plain LoRA.
     */
    public static byte[] adapterAsPeft(SafetensorsFile file, String moduleName) {
        Map<String, String> m = file.metadata();
        PeftAdapter peft = readAdapter(file, moduleName);
        if (!m.containsKey("quantization_target")) {
            return PeftExport.zip(peft);
        }
        QuantSpec spec = new QuantSpec(intMeta(m, "bits"), intMeta(m, "group_size"),
                Boolean.parseBoolean(m.get("symmetric")));
        return PeftExport.zip(peft, spec, QuantizationTarget.valueOf(m.get("quantization_target")));
    }

    private static int intMeta(Map<String, String> metadata, String key) {
        String value = metadata.get(key);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException | NullPointerException e) {
            throw new SafetensorsException(SafetensorsRule.BAD_METADATA, null,
                    "metadata '" + key + "' must be an integer, was " + value);
        }
    }
}
