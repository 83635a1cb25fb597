package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.InvalidParameterException;
import io.qalora.quant.GptqQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.Float16;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A merged layer as an AutoGPTQ checkpoint ({@code checkpoint_format "gptq"}, the v1 layout that
 * AutoGPTQ's {@code QuantLinear}, transformers' GPTQ integration and vLLM read): a zip of
 * {@code model.safetensors} and {@code quantize_config.json}. With {@code p = 32 / bits} codes per
 * int32, LSB first, and {@code g = groupSize}:
 *
 * <pre>
 * qweight I32 [in / p, out]       qweight[i / p][o] |= code[o][i] &lt;&lt; (bits * (i % p))   (packed along in)
 * qzeros  I32 [in / g, out / p]   qzeros[k][o / p]  |= (zero[o][k] - 1) &lt;&lt; (bits * (o % p)) (along out)
 * scales  F16 [in / g, out]       scales[k][o] = f16(scale[o][k])
 * g_idx   I32 [in]                g_idx[i] = i / g
 * bias    F16 [out]               when the layer has one (AutoGPTQ keeps it in half precision)
 * </pre>
 *
 * <p>AutoGPTQ reads {@code zero = unpack(qzeros) + 1} and dequantizes
 * {@code W[o][i] = scales[g_idx[i]][o] * (unpack(qweight)[i][o] - zero[g_idx[i]][o])}. Two things
 * change on the way, and {@link #exportedWeight} gives the exact result: the scales are rounded to
 * the nearest F16, so the weight becomes {@code (code - zero) * f16(scale)}; and as the v1 layout
 * stores {@code zero - 1}, a zero point of 0 (an asymmetric group without negative
 * values) cannot be stored and is refused (AutoGPTQ would read it back as {@code 2^bits}; its
 * {@code gptq_v2} format exists for this). Symmetric groups have {@code zero = 2^(bits-1)}.
 *
 * <p>A POOLED_ZERO_POINT merge has float zero points, which this layout cannot hold: export
 * {@link MergedLayer#withIntegerZeros()}, whose extra error {@code ZeroRoundingError} measures. A
 * zero point that rounds (or is clamped) to 0 is refused as above: an update that moves a group's
 * values wholly above zero needs {@code gptq_v2} or the float zeros of the service's own file.
 *
 * <p>Frantar et al., 2022 (GPTQ); the layout is AutoGPTQ's {@code QuantLinear.pack}.
 */
public final class GptqExport {

    public static final String MODEL_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "quantize_config.json";
    public static final String QWEIGHT = "qweight";
    public static final String QZEROS = "qzeros";
    public static final String SCALES = "scales";
    public static final String G_IDX = "g_idx";
    public static final String BIAS = "bias";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private GptqExport() {
    }

    /** The checkpoint zip with bare tensor names and {@code damp_percent} 0.01. */
    public static byte[] zip(MergedLayer layer) {
        return zip(layer, "", GptqQuantizer.DEFAULT_DAMPING);
    }

    /**
     * The checkpoint zip.
     *
     * @param moduleName prefix of the tensor names ({@code "<module>.qweight"}), as a model's
     *     checkpoint names them, or empty for bare names
     * @param dampPercent the GPTQ damping to record, for example {@code GptqResult.dampingUsed()}
     */
    public static byte[] zip(MergedLayer layer, String moduleName, double dampPercent) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(MODEL_FILE, SafetensorsWriter.toBytes(checkpoint(layer, moduleName)));
        entries.put(CONFIG_FILE, quantizeConfig(layer.weight().spec(), dampPercent));
        return ZipArchive.write(entries);
    }

    /**
     * The tensors of the checkpoint, with metadata {@code format: pt} (transformers refuses
     * safetensors files without it).
     *
     * @throws io.qalora.InvalidParameterException naming what AutoGPTQ's layout cannot hold: bits
     *     other than 2, 4 or 8; {@code in} or {@code out} not a multiple of {@code 32 / bits};
     *     {@code in} not a multiple of the group size; a zero point that is not an integer in
     *     {@code 1..maxq}; a scale or bias outside the F16 range
     */
    public static SafetensorsFile checkpoint(MergedLayer layer, String moduleName) {
        require(layer != null, "layer", "must not be null");
        require(moduleName != null && (moduleName.isEmpty() || ModuleNames.valid(moduleName)), "moduleName",
                "must be empty or a dotted module path, was '" + moduleName + "'");
        QuantizedMatrix q = layer.weight();
        QuantSpec spec = q.spec();
        int bits = spec.bits();
        int out = q.rows();
        int in = q.cols();
        require(bits == 2 || bits == 4 || bits == 8, "quantizationBits",
                "AutoGPTQ's packed layout takes 2, 4 or 8 bits, was " + bits);
        int perInt = 32 / bits;
        require(in % perInt == 0, "inFeatures", "must be a multiple of 32 / bits = " + perInt + ", was " + in);
        require(out % perInt == 0, "outFeatures", "must be a multiple of 32 / bits = " + perInt + ", was " + out);
        require(in % spec.groupSize() == 0, "groupSize",
                "must divide inFeatures = " + in + " (AutoGPTQ has no partial groups), was " + spec.groupSize());
        int groups = in / spec.groupSize();
        int[] zeros = integerZeros(q);
        short[] halfScales = halfScales(q);

        int[] qweight = new int[in / perInt * out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                qweight[(i / perInt) * out + o] |= q.code(o, i) << (bits * (i % perInt));
            }
        }
        int[] qzeros = new int[groups * (out / perInt)];
        float[] scales = new float[groups * out];
        for (int k = 0; k < groups; k++) {
            for (int o = 0; o < out; o++) {
                qzeros[k * (out / perInt) + o / perInt] |= (zeros[o * groups + k] - 1) << (bits * (o % perInt));
                scales[k * out + o] = Float16.toFloat(halfScales[o * groups + k]);
            }
        }
        int[] gIdx = new int[in];
        for (int i = 0; i < in; i++) {
            gIdx[i] = i / spec.groupSize();
        }
        String prefix = moduleName.isEmpty() ? "" : moduleName + ".";
        List<Tensor> tensors = new ArrayList<>();
        tensors.add(Tensor.i32(prefix + QWEIGHT, new int[] {in / perInt, out}, qweight));
        tensors.add(Tensor.i32(prefix + QZEROS, new int[] {groups, out / perInt}, qzeros));
        tensors.add(Tensor.f16(prefix + SCALES, new int[] {groups, out}, scales));
        tensors.add(Tensor.i32(prefix + G_IDX, new int[] {in}, gIdx));
        if (layer.bias() != null) {
            for (int o = 0; o < out; o++) {
                if (!Float.isFinite(Float16.toFloat(Float16.fromFloat(layer.bias()[o])))) {
                    throw new InvalidParameterException("bias", "value " + layer.bias()[o] + " at " + o
                            + " is beyond the F16 range");
                }
            }
            tensors.add(Tensor.f16(prefix + BIAS, new int[] {out}, layer.bias()));
        }
        return SafetensorsFile.of(Map.of("format", "pt"), tensors);
    }

    /**
     * The weight {@code [out, in]} the checkpoint stands for, {@code (code - zero) * f16(scale)} in
     * float32. AutoGPTQ's half-precision path rounds this product to F16 once more.
     */
    public static float[] exportedWeight(MergedLayer layer) {
        QuantizedMatrix q = layer.weight();
        short[] halfScales = halfScales(q);
        int groups = q.groupsPerRow();
        float[] w = new float[q.rows() * q.cols()];
        for (int o = 0; o < q.rows(); o++) {
            for (int i = 0; i < q.cols(); i++) {
                int k = o * groups + i / q.spec().groupSize();
                w[o * q.cols() + i] = (q.code(o, i) - q.zeros()[k]) * Float16.toFloat(halfScales[k]);
            }
        }
        return w;
    }

    /** {@code quantize_config.json} as AutoGPTQ's {@code BaseQuantizeConfig} writes it. */
    public static byte[] quantizeConfig(QuantSpec spec, double dampPercent) {
        require(Double.isFinite(dampPercent) && dampPercent >= 0, "dampPercent", "must be finite and >= 0");
        ObjectNode c = JSON.createObjectNode();
        c.put("bits", spec.bits());
        c.put("group_size", spec.groupSize());
        c.put("damp_percent", dampPercent);
        c.put("desc_act", false);
        c.put("static_groups", false);
        c.put("sym", spec.symmetric());
        c.put("true_sequential", true);
        c.putNull("model_name_or_path");
        c.put("model_file_base_name", "model");
        c.put("quant_method", "gptq");
        c.put("checkpoint_format", "gptq");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
    }

    private static int[] integerZeros(QuantizedMatrix q) {
        int maxq = q.spec().maxq();
        int[] zeros = new int[q.zeros().length];
        for (int k = 0; k < zeros.length; k++) {
            float z = q.zeros()[k];
            // The messages are built only on failure: this loop runs once per group.
            if (z != Math.rint(z)) {
                throw new InvalidParameterException("zeros", "zero point " + z + " at " + groupAt(q, k)
                        + " is not an integer (a POOLED_ZERO_POINT merge); AutoGPTQ stores integer zero points, so"
                        + " round them first with MergedLayer.withIntegerZeros()");
            }
            if (z < 1 || z > maxq) {
                throw new InvalidParameterException("zeros", "zero point " + z + " at " + groupAt(q, k)
                        + " cannot be stored as zero - 1 in the v1 'gptq' layout, which needs 1.." + maxq
                        + " (0 comes from an asymmetric group without negative values, or from a POOLED_ZERO_POINT"
                        + " zero point rounded or clamped to 0)");
            }
            zeros[k] = (int) z;
        }
        return zeros;
    }

    private static short[] halfScales(QuantizedMatrix q) {
        short[] half = new short[q.scales().length];
        for (int k = 0; k < half.length; k++) {
            half[k] = Float16.fromFloat(q.scales()[k]);
            float back = Float16.toFloat(half[k]);
            if (!Float.isFinite(back) || back <= 0) {
                throw new InvalidParameterException("scales", "scale " + q.scales()[k] + " at " + groupAt(q, k)
                        + " is " + back + " in F16");
            }
        }
        return half;
    }

    private static String groupAt(QuantizedMatrix q, int k) {
        return "row " + k / q.groupsPerRow() + ", group " + k % q.groupsPerRow();
    }
}
