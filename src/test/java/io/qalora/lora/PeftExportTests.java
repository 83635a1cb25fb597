package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import io.qalora.tensor.DType;
import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class PeftExportTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int OUT = 6;
    private static final int IN = 10;
    private static final int RANK = 3;

    private static QaLoraAdapter adapter(boolean rsLora) {
        SplittableRandom random = new SplittableRandom(5);
        DenseLayer base = Fixtures.layer(OUT, IN, true, 4);
        return QaLoraAdapter.builder(base).rank(RANK).alpha(6).rsLora(rsLora).quantizationBits(3).groupSize(5)
                .symmetric(true).quantizationTarget(QuantizationTarget.MERGED_WEIGHTS)
                .factors(Fixtures.gaussian(RANK * IN, 0.3, random), Fixtures.gaussian(OUT * RANK, 0.3, random)).build();
    }

    @Test
    void anAdapterRoundTripsThroughThePeftZip() {
        for (boolean rsLora : new boolean[] {false, true}) {
            try (QaLoraAdapter adapter = adapter(rsLora)) {
                PeftAdapter read = PeftImport.read(PeftExport.zip(adapter));
                assertThat(read).isEqualTo(PeftAdapter.of(adapter, "dense"));
                assertThat(read.moduleName()).isEqualTo("dense");
                assertThat(read.rank()).isEqualTo(RANK);
                assertThat(read.alpha()).isEqualTo(6f);
                assertThat(read.rsLora()).isEqualTo(rsLora);
                assertThat(read.loraA()).containsExactly(adapter.loraA());
                assertThat(read.loraB()).containsExactly(adapter.loraB());
                assertThat((float) read.scaling()).isEqualTo(adapter.scaling());
            }
        }
        PeftAdapter plain = new PeftAdapter("model.layers.0.self_attn.q_proj", 2, 4, 3, 2.5f, false,
                new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new float[] {-1, -2, -3, -4, -5, -6});
        assertThat(PeftImport.read(PeftExport.zip(plain))).isEqualTo(plain);
    }

    @Test
    void theConfigHasPeftKeysWithJsonTypes() throws IOException {
        try (QaLoraAdapter adapter = adapter(true)) {
            Map<String, byte[]> zip = GptqExportTests.unzip(PeftExport.zip(adapter, "model.layers.3.mlp.up_proj"));
            assertThat(zip).containsOnlyKeys("adapter_config.json", "adapter_model.safetensors");
            JsonNode c = JSON.readTree(zip.get("adapter_config.json"));
            assertThat(c.get("peft_type").stringValue()).isEqualTo("LORA");
            assertThat(c.get("r").isInt()).isTrue();
            assertThat(c.get("r").intValue()).isEqualTo(RANK);
            assertThat(c.get("lora_alpha").isNumber()).isTrue();
            assertThat(c.get("lora_alpha").doubleValue()).isEqualTo(6.0);
            assertThat(c.get("lora_dropout").isNumber()).isTrue();
            assertThat(c.get("lora_dropout").doubleValue()).isZero();
            assertThat(c.get("use_rslora").isBoolean()).isTrue();
            assertThat(c.get("use_rslora").booleanValue()).isTrue();
            assertThat(c.get("fan_in_fan_out").isBoolean()).isTrue();
            assertThat(c.get("fan_in_fan_out").booleanValue()).isFalse();
            assertThat(c.get("bias").stringValue()).isEqualTo("none");
            assertThat(c.get("task_type").isNull()).isTrue();
            assertThat(c.get("base_model_name_or_path").isNull()).isTrue();
            assertThat(c.get("target_modules").isArray()).isTrue();
            assertThat(c.get("target_modules").size()).isEqualTo(1);
            assertThat(c.get("target_modules").get(0).stringValue()).isEqualTo("model.layers.3.mlp.up_proj");
            assertThat(c.get("use_qalora").booleanValue()).isFalse();
            assertThat(c.get("qalora_group_size").isInt()).isTrue();
            assertThat(c.get("qalora_group_size").intValue()).isEqualTo(5);
            assertThat(c.get("quantization_bits").isInt()).isTrue();
            assertThat(c.get("quantization_bits").intValue()).isEqualTo(3);
            assertThat(c.get("quantization_symmetric").booleanValue()).isTrue();
            assertThat(c.get("quantization_target").stringValue()).isEqualTo("MERGED_WEIGHTS");

            SafetensorsFile weights = SafetensorsReader.read(zip.get("adapter_model.safetensors"));
            assertThat(weights.metadata()).containsEntry("format", "pt");
            Tensor a = weights.require("base_model.model.model.layers.3.mlp.up_proj.lora_A.weight");
            Tensor b = weights.require("base_model.model.model.layers.3.mlp.up_proj.lora_B.weight");
            assertThat(a.dtype()).isEqualTo(DType.F32);
            assertThat(a.shape()).containsExactly(RANK, IN);
            assertThat(b.dtype()).isEqualTo(DType.F32);
            assertThat(b.shape()).containsExactly(OUT, RANK);
        }
    }

    @Test
    void aNonIntegralAlphaIsWrittenAsAFloat() throws IOException {
        PeftAdapter a = new PeftAdapter("dense", 1, 1, 1, 0.75f, false, new float[] {1}, new float[] {2});
        JsonNode c = JSON.readTree(GptqExportTests.unzip(PeftExport.zip(a)).get("adapter_config.json"));
        assertThat(c.get("lora_alpha").isFloatingPointNumber()).isTrue();
        assertThat(c.get("lora_alpha").doubleValue()).isEqualTo(0.75);
    }

    @Test
    void readsAPeftStyleZipInAFolderWithHalfPrecisionAndAnAlphaPattern() {
        // As save_pretrained writes it into a folder: F16 factors, alpha as an int, and an
        // alpha_pattern entry keyed by the module's last name.
        String config = """
                {"peft_type": "LORA", "r": 2, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"],
                 "bias": "none", "use_rslora": false, "use_dora": false, "fan_in_fan_out": false,
                 "rank_pattern": {}, "alpha_pattern": {"q_proj": 4}, "task_type": "CAUSAL_LM", "unknown_future_key": 1}
                """;
        String stem = "base_model.model.model.layers.0.self_attn.q_proj";
        byte[] weights = SafetensorsWriter.toBytes(Map.of("format", "pt"), List.of(
                Tensor.f16(stem + ".lora_A.weight", new int[] {2, 3}, new float[] {0.5f, -1, 2, 0.25f, 0, 1}),
                Tensor.f16(stem + ".lora_B.weight", new int[] {2, 2}, new float[] {1, 0, 0, -1})));
        PeftAdapter a = PeftImport.read(zip(Map.of("my-adapter/adapter_config.json", config.getBytes(StandardCharsets.UTF_8),
                "my-adapter/adapter_model.safetensors", weights)));
        assertThat(a.moduleName()).isEqualTo("model.layers.0.self_attn.q_proj");
        assertThat(a.rank()).isEqualTo(2);
        assertThat(a.inFeatures()).isEqualTo(3);
        assertThat(a.outFeatures()).isEqualTo(2);
        assertThat(a.alpha()).isEqualTo(4f);
        assertThat(a.scaling()).isEqualTo(2.0);
        assertThat(a.loraA()).containsExactly(0.5f, -1, 2, 0.25f, 0, 1);
        assertThat(a.loraB()).containsExactly(1, 0, 0, -1);
    }

    @Test
    void anImportedAdapterMergesIntoItsBaseLayer() {
        PeftAdapter peft = new PeftAdapter("dense", 1, 2, 2, 2f, false, new float[] {0.5f, 0.25f}, new float[] {1f, -2f});
        DenseLayer base = new DenseLayer(2, 2, new float[] {1, 0, 0, 1}, null);
        try (QaLoraAdapter adapter = peft.adapterBuilder(base).quantizationBits(8).groupSize(2).build()) {
            // s = 2: W + 2 B A = [[1 + 1, 0.5], [-2, 1 - 1]].
            assertThat(adapter.mergedWeight()).containsExactly(2f, 0.5f, -2f, 0f);
        }
        assertThatThrownBy(() -> peft.adapterBuilder(new DenseLayer(3, 2, new float[6], null)))
                .isInstanceOf(InvalidParameterException.class).hasMessageContaining("baseLayer");
    }

    @Test
    void refusesWhatItCannotCarry() {
        String good = "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 1";
        byte[] weights = weights("base_model.model.dense");
        assertRefused(good + ", \"use_dora\": true}", weights, "use_dora");
        assertRefused(good + ", \"use_qalora\": true}", weights, "use_qalora");
        assertRefused(good + ", \"fan_in_fan_out\": true}", weights, "fan_in_fan_out");
        assertRefused(good + ", \"bias\": \"all\"}", weights, "bias");
        assertRefused("{\"peft_type\": \"IA3\", \"r\": 1, \"lora_alpha\": 1}", weights, "peft_type");
        assertRefused("{\"peft_type\": \"LORA\", \"r\": \"8\", \"lora_alpha\": 1}", weights, "r");
        assertRefused("{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 1}", weights, "r");
        assertRefused("{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": \"16\"}", weights, "lora_alpha");
        assertRefused("{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 1e39}", weights, "lora_alpha");
        assertRefused("[1, 2]", weights, "adapter_config.json");
        assertRefused("{not json", weights, "adapter_config.json");
        byte[] twoModules = SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("base_model.model.a.lora_A.weight", new int[] {1, 1}, new float[] {1}),
                Tensor.f32("base_model.model.a.lora_B.weight", new int[] {1, 1}, new float[] {1}),
                Tensor.f32("base_model.model.b.lora_A.weight", new int[] {1, 1}, new float[] {1}),
                Tensor.f32("base_model.model.b.lora_B.weight", new int[] {1, 1}, new float[] {1})));
        assertRefused(good + "}", twoModules, "module");
        byte[] magnitude = SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("base_model.model.a.lora_A.weight", new int[] {1, 1}, new float[] {1}),
                Tensor.f32("base_model.model.a.lora_B.weight", new int[] {1, 1}, new float[] {1}),
                Tensor.f32("base_model.model.a.lora_magnitude_vector", new int[] {1}, new float[] {1})));
        assertRefused(good + "}", magnitude, "adapter");

        Map<String, byte[]> pickle = new LinkedHashMap<>();
        pickle.put("adapter_config.json", (good + "}").getBytes(StandardCharsets.UTF_8));
        pickle.put("adapter_model.bin", new byte[] {1, 2, 3});
        assertThatThrownBy(() -> PeftImport.read(zip(pickle))).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("adapter_model.bin");
        assertThatThrownBy(() -> PeftImport.read(new byte[] {1, 2, 3, 4})).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("zip");
    }

    @Test
    void aCheckpointOfSeveralModulesIsReadOneNamedModuleAtATime() {
        // As PEFT saves a model with two target modules: one file, both modules, one rank_pattern entry.
        String config = """
                {"peft_type": "LORA", "r": 1, "lora_alpha": 2, "rank_pattern": {"v_proj": 2},
                 "target_modules": ["q_proj", "v_proj"]}
                """;
        String q = "base_model.model.model.layers.0.self_attn.q_proj";
        String v = "base_model.model.model.layers.0.self_attn.v_proj";
        byte[] weights = SafetensorsWriter.toBytes(Map.of("format", "pt"), List.of(
                Tensor.f32(q + ".lora_A.weight", new int[] {1, 2}, new float[] {1, 2}),
                Tensor.f32(q + ".lora_B.weight", new int[] {3, 1}, new float[] {3, 4, 5}),
                Tensor.f32(v + ".lora_A.weight", new int[] {2, 2}, new float[] {-1, -2, -3, -4}),
                Tensor.f32(v + ".lora_B.weight", new int[] {3, 2}, new float[] {6, 7, 8, 9, 10, 11})));
        byte[] zip = zip(Map.of("adapter_config.json", config.getBytes(StandardCharsets.UTF_8),
                "adapter_model.safetensors", weights));

        PeftAdapter qProj = PeftImport.read(zip, "model.layers.0.self_attn.q_proj");
        assertThat(qProj.moduleName()).isEqualTo("model.layers.0.self_attn.q_proj");
        assertThat(qProj.rank()).isEqualTo(1);
        assertThat(qProj.loraB()).containsExactly(3, 4, 5);
        PeftAdapter vProj = PeftImport.read(zip, v);
        assertThat(vProj.moduleName()).isEqualTo("model.layers.0.self_attn.v_proj");
        assertThat(vProj.rank()).isEqualTo(2);
        assertThat(vProj.alpha()).isEqualTo(2f);
        assertThat(vProj.loraA()).containsExactly(-1, -2, -3, -4);

        assertThatThrownBy(() -> PeftImport.read(zip)).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("2 modules").hasMessageContaining("q_proj").hasMessageContaining("v_proj")
                .satisfies(e -> assertThat(((InvalidParameterException) e).parameter()).isEqualTo("module"));
        assertThatThrownBy(() -> PeftImport.read(zip, "k_proj")).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("'k_proj' is not in the adapter")
                .satisfies(e -> assertThat(((InvalidParameterException) e).parameter()).isEqualTo("module"));
    }

    @Test
    void anUploadedAdaptersFileReadsBackAndExportsAsPlainLora() throws IOException {
        PeftAdapter uploaded = new PeftAdapter("encoder.dense", 2, 3, 2, 3f, true,
                new float[] {1, 2, 3, 4, 5, 6}, new float[] {-1, 0.5f, 0.25f, 2});
        SafetensorsFile file = SafetensorsExport.adapter(uploaded, new io.qalora.quant.QuantSpec(4, 2, false));

        assertThat(file.metadata()).containsEntry("module", "encoder.dense").containsEntry("rank", "2")
                .containsEntry("alpha", "3.0").containsEntry("rs_lora", "true").containsEntry("bits", "4")
                .containsEntry("scaling", Float.toString((float) (3 / Math.sqrt(2))))
                .doesNotContainKey("quantization_target");
        SafetensorsFile reread = SafetensorsReader.read(SafetensorsWriter.toBytes(file));
        assertThat(SafetensorsExport.readAdapter(reread, null)).isEqualTo(uploaded);
        assertThat(SafetensorsExport.readAdapter(reread, "other").moduleName()).isEqualTo("other");

        Map<String, byte[]> peft = GptqExportTests.unzip(SafetensorsExport.adapterAsPeft(reread, null));
        JsonNode config = JSON.readTree(peft.get("adapter_config.json"));
        assertThat(config.get("target_modules").get(0).stringValue()).isEqualTo("encoder.dense");
        assertThat(config.has("quantization_target")).isFalse();
        assertThat(config.has("qalora_group_size")).isFalse();
        assertThat(PeftImport.read(SafetensorsExport.adapterAsPeft(reread, null))).isEqualTo(uploaded);
    }

    private static void assertRefused(String config, byte[] weights, String field) {
        byte[] zip = zip(Map.of("adapter_config.json", config.getBytes(StandardCharsets.UTF_8),
                "adapter_model.safetensors", weights));
        assertThatThrownBy(() -> PeftImport.read(zip)).isInstanceOf(InvalidParameterException.class)
                .satisfies(e -> assertThat(((InvalidParameterException) e).parameter()).isIn(field, "adapter_config.json " + field));
    }

    private static byte[] weights(String stem) {
        return SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32(stem + ".lora_A.weight", new int[] {1, 2}, new float[] {1, 2}),
                Tensor.f32(stem + ".lora_B.weight", new int[] {2, 1}, new float[] {3, 4})));
    }

    private static byte[] zip(Map<String, byte[]> entries) {
        return ZipArchive.write(new LinkedHashMap<>(entries));
    }
}
