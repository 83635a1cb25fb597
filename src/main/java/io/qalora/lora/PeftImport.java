package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.InvalidParameterException;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a PEFT LoRA checkpoint of one module, as {@link PeftExport} writes it or PEFT's
 * {@code save_pretrained} does: a zip with {@code adapter_config.json} and
 * {@code adapter_model.safetensors} (at the top or in one folder), the factors named
 * {@code [base_model.model.]<module>.lora_A.weight [r, in]} and {@code ...lora_B.weight [out, r]}
 * in any floating dtype. Per-module {@code rank_pattern} and {@code alpha_pattern} entries apply
 * when their key is the module path or its dotted suffix (keys are compared literally, not as the
 * regular expressions PEFT also allows).
 *
 * <p>A checkpoint of several modules (PEFT saves every target module in one file) is read one
 * module at a time: {@link #read(byte[], String)} names it, either as the module path
 * ({@code model.layers.0.self_attn.q_proj}) or as the tensor stem with PEFT's
 * {@code base_model.model.} prefix.
 *
 * <p>Refused, naming the reason: another PEFT type, DoRA, QA-LoRA's pooled input
 * ({@code use_qalora}), {@code fan_in_fan_out} (transposed Conv1D weights), trained biases
 * ({@code bias} other than {@code "none"}), several modules without a module named (field
 * {@code module}), pickled {@code .bin} weights.
 */
public final class PeftImport {

    /** The most the zip may unpack to. */
    public static final long MAX_UNPACKED_BYTES = 1L << 30;

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String A_SUFFIX = ".lora_A.weight";
    private static final String B_SUFFIX = ".lora_B.weight";
    private static final String PREFIX = "base_model.model.";

    private PeftImport() {
    }

    /**
     * The adapter in {@code zip}, which must adapt exactly one module.
     *
     * @throws InvalidParameterException naming the file or field at fault
     * @throws io.qalora.tensor.SafetensorsException when the weights file breaks a format rule
     */
    public static PeftAdapter read(byte[] zip) {
        return read(zip, null);
    }

    /**
     * The adapter of {@code module} in {@code zip}; with {@code module} null the zip must adapt
     * exactly one module. The other modules' factors are checked for pairing, not read.
     *
     * @throws InvalidParameterException naming the file or field at fault ({@code module} when
     *     the module is not in the zip, or when several are and none was named)
     * @throws io.qalora.tensor.SafetensorsException when the weights file breaks a format rule
     */
    public static PeftAdapter read(byte[] zip, String module) {
        Map<String, byte[]> entries = ZipArchive.read(zip, "adapter", MAX_UNPACKED_BYTES);
        JsonNode config = parseConfig(single(entries, PeftExport.CONFIG_FILE));
        byte[] weights = single(entries, PeftExport.WEIGHTS_FILE);

        String type = config.path("peft_type").asString("");
        requireConfig("LORA".equals(type), "peft_type", "must be \"LORA\", was " + config.path("peft_type"));
        refuseIfTrue(config, "use_dora", "DoRA adds a magnitude vector this import does not carry");
        refuseIfTrue(config, "use_qalora", "PEFT's QA-LoRA pools the input, so A is [r, in / g], not [r, in]");
        refuseIfTrue(config, "fan_in_fan_out", "the weights are stored transposed (Conv1D)");
        JsonNode bias = config.path("bias");
        requireConfig(bias.isMissingNode() || bias.isNull() || "none".equals(bias.asString("")), "bias",
                "must be \"none\"; " + bias + " means the adapter trained base biases, which are not read");
        JsonNode r = config.path("r");
        requireConfig(r.isIntegralNumber() && r.canConvertToInt() && r.intValue() >= 1, "r", "must be a positive integer, was " + r);
        JsonNode alpha = config.path("lora_alpha");
        requireConfig(alpha.isNumber(), "lora_alpha", "must be a number, was " + alpha);
        JsonNode rsLora = config.path("use_rslora");
        requireConfig(rsLora.isMissingNode() || rsLora.isNull() || rsLora.isBoolean(), "use_rslora", "must be a boolean");

        SafetensorsFile file = SafetensorsReader.read(weights);
        List<String> aNames = new ArrayList<>();
        List<String> others = new ArrayList<>();
        for (String name : file.tensors().keySet()) {
            if (name.endsWith(A_SUFFIX)) {
                aNames.add(name);
            } else if (!name.endsWith(B_SUFFIX)) {
                others.add(name);
            }
        }
        require(others.isEmpty(), "adapter", "holds tensors other than lora_A and lora_B: " + others);
        require(!aNames.isEmpty(), "adapter", "holds no lora_A weights");
        for (String name : aNames) {
            String stem = name.substring(0, name.length() - A_SUFFIX.length());
            require(file.tensors().containsKey(stem + B_SUFFIX), "adapter", "has no " + stem + B_SUFFIX);
        }
        require(file.tensors().size() == 2 * aNames.size(), "adapter",
                "holds a lora_B without its lora_A: " + file.tensors().keySet());
        List<String> modules = aNames.stream().map(PeftImport::moduleOf).sorted().toList();
        String chosen;
        if (module == null) {
            require(modules.size() == 1, "module", "the adapter adapts " + modules.size() + " modules " + modules
                    + "; name the one to read");
            chosen = modules.get(0);
        } else {
            String wanted = module.startsWith(PREFIX) ? module.substring(PREFIX.length()) : module;
            require(modules.contains(wanted), "module", "'" + module + "' is not in the adapter, which adapts "
                    + modules);
            chosen = wanted;
        }
        String aName = aNames.stream().filter(n -> moduleOf(n).equals(chosen)).findFirst().orElseThrow();
        String stem = aName.substring(0, aName.length() - A_SUFFIX.length());
        Tensor a = factor(file, stem + A_SUFFIX);
        Tensor b = factor(file, stem + B_SUFFIX);

        int rank = a.dim(0);
        require(b.dim(1) == rank, "adapter", "lora_A is " + shape(a) + " but lora_B is " + shape(b)
                + "; they must share the rank");
        JsonNode rankOverride = pattern(config.path("rank_pattern"), chosen);
        int configuredRank = rankOverride == null ? r.intValue() : rankOverride.asInt();
        require(configuredRank == rank, "r", "the config says " + configuredRank + " for " + chosen
                + " but the factors have rank " + rank);
        JsonNode alphaOverride = pattern(config.path("alpha_pattern"), chosen);
        float alphaValue = (float) (alphaOverride == null ? alpha : alphaOverride).asDouble();
        if (!Float.isFinite(alphaValue)) {
            throw new InvalidParameterException(PeftExport.CONFIG_FILE + " lora_alpha", "must be a finite float32 for "
                    + chosen + ", was " + (alphaOverride == null ? alpha : alphaOverride).asString());
        }
        return new PeftAdapter(chosen, rank, a.dim(1), b.dim(0), alphaValue, rsLora.asBoolean(false),
                finite(a), finite(b));
    }

    /** The module path of a {@code lora_A} tensor name: the stem without PEFT's prefix. */
    private static String moduleOf(String aName) {
        String stem = aName.substring(0, aName.length() - A_SUFFIX.length());
        return stem.startsWith(PREFIX) ? stem.substring(PREFIX.length()) : stem;
    }

    private static byte[] single(Map<String, byte[]> entries, String fileName) {
        List<String> matches = entries.keySet().stream().filter(n -> ZipArchive.fileName(n).equals(fileName)).toList();
        if (matches.isEmpty() && PeftExport.WEIGHTS_FILE.equals(fileName)
                && entries.keySet().stream().anyMatch(n -> ZipArchive.fileName(n).equals("adapter_model.bin"))) {
            throw new InvalidParameterException("adapter", "holds adapter_model.bin, a pickle that is not read;"
                    + " save the adapter with safe_serialization=True");
        }
        require(matches.size() == 1, "adapter", "must hold exactly one " + fileName + ", found " + matches.size());
        return entries.get(matches.get(0));
    }

    private static JsonNode parseConfig(byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new InvalidParameterException(PeftExport.CONFIG_FILE, "is not valid JSON: " + e.getOriginalMessage());
        }
        require(node != null && node.isObject(), PeftExport.CONFIG_FILE, "must be a JSON object, was "
                + new String(bytes, 0, Math.min(bytes.length, 40), StandardCharsets.UTF_8));
        return node;
    }

    private static void refuseIfTrue(JsonNode config, String field, String why) {
        requireConfig(!config.path(field).asBoolean(false), field, "is true: " + why);
    }

    private static void requireConfig(boolean condition, String field, String message) {
        require(condition, PeftExport.CONFIG_FILE + " " + field, message);
    }

    /** The pattern value whose key is {@code module} or a dotted suffix of it, the longest key winning. */
    private static JsonNode pattern(JsonNode patterns, String module) {
        JsonNode best = null;
        int bestLength = -1;
        if (patterns.isObject()) {
            for (Map.Entry<String, JsonNode> e : patterns.properties()) {
                String key = e.getKey();
                boolean matches = module.equals(key) || module.endsWith("." + key);
                if (matches && key.length() > bestLength) {
                    requireConfig(e.getValue().isNumber(), "pattern " + key, "must be a number");
                    best = e.getValue();
                    bestLength = key.length();
                }
            }
        }
        return best;
    }

    private static Tensor factor(SafetensorsFile file, String name) {
        Tensor t = file.tensors().get(name);
        require(t != null, "adapter", "has no " + name);
        require(t.dtype().isFloating(), name, "must be floating point, was " + t.dtype());
        require(t.rank() == 2 && t.dim(0) >= 1 && t.dim(1) >= 1, name, "must be a non-empty matrix, was " + shape(t));
        return t;
    }

    private static float[] finite(Tensor t) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new InvalidParameterException(t.name(), "value at " + i + " is " + v[i]
                        + "; all values must be finite");
            }
        }
        return v;
    }

    private static String shape(Tensor t) {
        return java.util.Arrays.toString(t.shape());
    }
}
