package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import io.qalora.quant.GptqQuantizer;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.DType;
import io.qalora.tensor.Float16;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads the checkpoint back with AutoGPTQ's published unpacking, written out in Java below. */
class GptqExportTests {

    private static final int IN = 64;
    private static final int OUT = 32;
    private static final int GROUP = 16;

    @ParameterizedTest(name = "{0} bits, symmetric={1}")
    @CsvSource({"2, false", "2, true", "4, false", "4, true", "8, false", "8, true"})
    void autoGptqDequantizationGivesTheCodesTimesF16Scales(int bits, boolean sym) throws IOException {
        MergedLayer layer = rtnLayer(bits, sym, 5);
        Map<String, byte[]> zip = unzip(GptqExport.zip(layer));
        assertThat(zip).containsOnlyKeys("model.safetensors", "quantize_config.json");
        SafetensorsFile file = SafetensorsReader.read(zip.get("model.safetensors"));

        float[] autoGptq = autoGptqDequantize(file, bits);
        QuantizedMatrix q = layer.weight();
        float[] expected = new float[OUT * IN];
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i++) {
                int g = o * q.groupsPerRow() + i / GROUP;
                float f16Scale = Float16.toFloat(Float16.fromFloat(q.scales()[g]));
                expected[o * IN + i] = (q.code(o, i) - q.zeros()[g]) * f16Scale;
            }
        }
        assertThat(autoGptq).containsExactly(expected);
        assertThat(GptqExport.exportedWeight(layer)).containsExactly(expected);
        // The F16 scales move the weights by at most half an F16 ulp of the scale per code step.
        for (int i = 0; i < expected.length; i++) {
            assertThat(Math.abs(expected[i] - q.dequantized()[i])).isLessThanOrEqualTo(Math.abs(q.dequantized()[i]) * 1e-3f + 1e-6f);
        }
        assertThat(file.require("bias").dtype()).isEqualTo(DType.F16);
        assertThat(file.require("bias").toFloatArray()[3]).isEqualTo(Float16.toFloat(Float16.fromFloat(layer.bias()[3])));
    }

    @Test
    void aGptqQuantizedLayerRoundTripsToo() throws IOException {
        SplittableRandom random = new SplittableRandom(9);
        float[] w = negativeInEveryGroup(gaussian(OUT * IN, random));
        float[] x = gaussian(200 * IN, random);
        QuantizedMatrix q = GptqQuantizer.quantize(w, OUT, IN, x, 200, new QuantSpec(4, GROUP, false)).matrix();
        MergedLayer layer = new MergedLayer(q, null);
        SafetensorsFile file = SafetensorsReader.read(unzip(GptqExport.zip(layer, "model.layers.0.mlp.down_proj", 0.01))
                .get("model.safetensors"));
        assertThat(file.tensors()).containsOnlyKeys("model.layers.0.mlp.down_proj.qweight",
                "model.layers.0.mlp.down_proj.qzeros", "model.layers.0.mlp.down_proj.scales",
                "model.layers.0.mlp.down_proj.g_idx");
        SafetensorsFile bare = SafetensorsReader.read(unzip(GptqExport.zip(layer)).get("model.safetensors"));
        assertThat(autoGptqDequantize(bare, 4)).containsExactly(GptqExport.exportedWeight(layer));
    }

    @Test
    void tensorsHaveAutoGptqShapesAndDtypes() throws IOException {
        MergedLayer layer = rtnLayer(4, false, 1);
        SafetensorsFile file = SafetensorsReader.read(unzip(GptqExport.zip(layer)).get("model.safetensors"));
        assertThat(file.metadata()).containsEntry("format", "pt");
        assertTensor(file.require("qweight"), DType.I32, IN * 4 / 32, OUT);
        assertTensor(file.require("qzeros"), DType.I32, IN / GROUP, OUT * 4 / 32);
        assertTensor(file.require("scales"), DType.F16, IN / GROUP, OUT);
        assertTensor(file.require("g_idx"), DType.I32, IN);
        assertTensor(file.require("bias"), DType.F16, OUT);
        long[] gIdx = file.require("g_idx").toLongArray();
        for (int i = 0; i < IN; i++) {
            assertThat(gIdx[i]).isEqualTo(i / GROUP);
        }
    }

    @Test
    void packingByHand() {
        // 4 bits, 8 x 8, one group: output o has codes (o + i) % 16 along in, so output 0 packs to
        // 0x76543210 and output 1 to 0x87654321, negative as an int32. Zero point o + 1 is stored
        // as o, packed along out: qzeros = 0x76543210 too.
        int n = 8;
        char[] codes = new char[n * n];
        float[] zeros = new float[n];
        for (int o = 0; o < n; o++) {
            for (int i = 0; i < n; i++) {
                codes[o * n + i] = (char) ((o + i) % 16);
            }
            zeros[o] = o + 1;
        }
        float[] scales = new float[n];
        java.util.Arrays.fill(scales, 0.5f);
        QuantizedMatrix q = new QuantizedMatrix(new QuantSpec(4, 8, false), n, n, codes, scales, zeros, new float[n * n]);
        SafetensorsFile file = GptqExport.checkpoint(new MergedLayer(q, null), "");
        long[] qweight = file.require("qweight").toLongArray();
        assertThat(qweight).hasSize(8);
        assertThat(qweight[0]).isEqualTo(0x76543210);
        assertThat(qweight[1]).isNegative().isEqualTo((long) (int) 0x87654321);
        assertThat(file.require("qzeros").toLongArray()).containsExactly(0x76543210);

        // 8 bits: code 255 in the top byte sets the sign bit, as AutoGPTQ's uint32 -> int32 does.
        char[] codes8 = {1, 2, 3, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        QuantizedMatrix q8 = new QuantizedMatrix(new QuantSpec(8, 4, true), 4, 4, codes8, new float[] {1, 1, 1, 1},
                new float[] {128, 128, 128, 128}, new float[16]);
        long[] packed = GptqExport.checkpoint(new MergedLayer(q8, null), "").require("qweight").toLongArray();
        assertThat(packed[0]).isEqualTo((long) (int) 0xFF030201);
        assertThat(GptqExport.checkpoint(new MergedLayer(q8, null), "").require("qzeros").toLongArray())
                .containsExactly((long) 0x7F7F7F7F);
    }

    @Test
    void quantizeConfigHasAutoGptqKeysWithJsonTypes() throws IOException {
        byte[] json = unzip(GptqExport.zip(rtnLayer(4, true, 2))).get("quantize_config.json");
        JsonNode c = JsonMapper.builder().build().readTree(json);
        assertThat(c.get("bits").isInt()).isTrue();
        assertThat(c.get("bits").intValue()).isEqualTo(4);
        assertThat(c.get("group_size").intValue()).isEqualTo(GROUP);
        assertThat(c.get("group_size").isInt()).isTrue();
        assertThat(c.get("sym").isBoolean()).isTrue();
        assertThat(c.get("sym").booleanValue()).isTrue();
        assertThat(c.get("desc_act").isBoolean()).isTrue();
        assertThat(c.get("desc_act").booleanValue()).isFalse();
        assertThat(c.get("static_groups").booleanValue()).isFalse();
        assertThat(c.get("true_sequential").booleanValue()).isTrue();
        assertThat(c.get("damp_percent").isNumber()).isTrue();
        assertThat(c.get("damp_percent").doubleValue()).isEqualTo(0.01);
        assertThat(c.get("checkpoint_format").stringValue()).isEqualTo("gptq");
        assertThat(c.get("model_file_base_name").stringValue()).isEqualTo("model");
        assertThat(c.get("quant_method").stringValue()).isEqualTo("gptq");
    }

    @Test
    void refusesWhatTheLayoutCannotHold() {
        assertRefused(rtnLayer(3, false, 1), "quantizationBits");
        assertRefused(layer(4, 60, 32, 4, false), "inFeatures");
        assertRefused(layer(4, 64, 12, 16, false), "outFeatures");
        assertRefused(layer(4, 64, 32, 24, false), "groupSize");
        // An asymmetric group without negative values has zero point 0: v1 stores zero - 1.
        float[] positive = new float[OUT * IN];
        java.util.Arrays.fill(positive, 0.25f);
        positive[7] = 1f;
        MergedLayer zeroPoint = new MergedLayer(GroupQuantizer.quantize(positive, OUT, IN, new QuantSpec(4, GROUP, false)), null);
        assertRefused(zeroPoint, "zeros");
        QuantizedMatrix q = rtnLayer(4, false, 1).weight();
        float[] fractional = q.zeros().clone();
        fractional[0] += 0.5f;
        assertRefused(new MergedLayer(new QuantizedMatrix(q.spec(), OUT, IN, q.codes(), q.scales(), fractional,
                q.dequantized()), null), "zeros");
        float[] huge = q.scales().clone();
        huge[3] = 1e6f;
        assertRefused(new MergedLayer(new QuantizedMatrix(q.spec(), OUT, IN, q.codes(), huge, q.zeros(),
                q.dequantized()), null), "scales");
        assertThatThrownBy(() -> GptqExport.zip(rtnLayer(4, false, 1), "bad name!", 0.01))
                .isInstanceOf(InvalidParameterException.class).hasMessageContaining("moduleName");
    }

    private static void assertRefused(MergedLayer layer, String parameter) {
        assertThatThrownBy(() -> GptqExport.zip(layer)).isInstanceOf(InvalidParameterException.class)
                .satisfies(e -> assertThat(((InvalidParameterException) e).parameter()).isEqualTo(parameter));
    }

    // ---- AutoGPTQ's QuantLinear (v1, "cuda_old" torch path), transcribed ---------------------

    /**
     * {@code zeros = (qzeros >> wf) & maxq; zeros = zeros + 1};
     * {@code weight = (qweight >> wf) & maxq}, reshaped to {@code [in, out]};
     * {@code weight = scales[g_idx] * (weight - zeros[g_idx])}, then transposed to {@code [out, in]}.
     */
    static float[] autoGptqDequantize(SafetensorsFile file, int bits) {
        int maxq = (1 << bits) - 1;
        int perInt = 32 / bits;
        Tensor qweight = file.require("qweight");
        Tensor qzeros = file.require("qzeros");
        int in = qweight.dim(0) * perInt;
        int out = qweight.dim(1);
        int groups = qzeros.dim(0);
        long[] qw = qweight.toLongArray();
        long[] qz = qzeros.toLongArray();
        float[] scales = file.require("scales").toFloatArray();
        long[] gIdx = file.require("g_idx").toLongArray();
        int[] zeros = new int[groups * out];
        for (int k = 0; k < groups; k++) {
            for (int c = 0; c < out / perInt; c++) {
                for (int j = 0; j < perInt; j++) {
                    zeros[k * out + c * perInt + j] = (int) ((((int) qz[k * (out / perInt) + c]) >> (bits * j)) & maxq) + 1;
                }
            }
        }
        float[] w = new float[out * in];
        for (int row = 0; row < in / perInt; row++) {
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < perInt; j++) {
                    int i = row * perInt + j;
                    int code = (((int) qw[row * out + o]) >> (bits * j)) & maxq;
                    int g = (int) gIdx[i];
                    w[o * in + i] = scales[g * out + o] * (code - zeros[g * out + o]);
                }
            }
        }
        return w;
    }

    static Map<String, byte[]> unzip(byte[] zip) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                entries.put(e.getName(), in.readAllBytes());
            }
        }
        return entries;
    }

    private static void assertTensor(Tensor t, DType dtype, int... shape) {
        assertThat(t.dtype()).isEqualTo(dtype);
        assertThat(t.shape()).containsExactly(shape);
    }

    private static MergedLayer rtnLayer(int bits, boolean sym, long seed) {
        return layer(bits, IN, OUT, GROUP, sym, seed);
    }

    private static MergedLayer layer(int bits, int in, int out, int group, boolean sym) {
        return layer(bits, in, out, group, sym, 1);
    }

    private static MergedLayer layer(int bits, int in, int out, int group, boolean sym, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = gaussian(out * in, random);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i += group) {
                w[o * in + i] = -Math.abs(w[o * in + i]) - 0.01f;
            }
        }
        return new MergedLayer(GroupQuantizer.quantize(w, out, in, new QuantSpec(bits, group, sym)), gaussian(out, random));
    }

    private static float[] negativeInEveryGroup(float[] w) {
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i += GROUP) {
                w[o * IN + i] = -Math.abs(w[o * IN + i]) - 0.5f;
            }
        }
        return w;
    }

    private static float[] gaussian(int n, SplittableRandom random) {
        return Fixtures.gaussian(n, 1, random);
    }
}
