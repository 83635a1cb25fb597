package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.quant.QuantSpec;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * An adapter as a Hugging Face PEFT LoRA checkpoint: a zip of {@code adapter_config.json} and
 * {@code adapter_model.safetensors} holding {@code base_model.model.<module>.lora_A.weight [r, in]}
 * and {@code ...lora_B.weight [out, r]} in F32, so {@code PeftModel.from_pretrained} applies
 * {@code W + s B A} to the module (Hu et al., 2021).
 *
 * <p>The factors are the trained, unquantized ones, as the merge uses them. An adapter trained with
 * {@code LORA_FACTORS} saw {@code fq(A)} and {@code fq(B)} in its forward pass; the config records
 * the QA-LoRA settings (Xu et al., ICLR 2024) for a consumer that wants to redo that:
 * {@code qalora_group_size}, {@code quantization_bits}, {@code quantization_symmetric} and
 * {@code quantization_target}. {@code use_qalora} is false: PEFT's QA-LoRA variant pools the input
 * into {@code A [r, in / g]}, which the checkpoint's A is not. PEFT 0.13 and later drop keys they do
 * not know, with a warning; older versions refuse them.
 *
 * <p>A POOLED_ZERO_POINT adapter's {@code A [r, in / g]} reads group sums of the input, which is
 * exactly a standard LoRA with {@code A_exp [r, in]}, {@code A_exp[:, i] = A[:, i / g]}, so that is
 * what the checkpoint holds (with {@code quantization_target} {@code POOLED_ZERO_POINT}): PEFT
 * applies it to the float base as {@code W + s B A_exp}, while the service's merged layer applies
 * it to the quantized base. PEFT's own {@code use_qalora} scales its pooled input differently (the
 * group mean times {@code in / g}) and is not used.
 */
public final class PeftExport {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** The module name when none is given: the layer a dense-layer service trains. */
    public static final String DEFAULT_MODULE = "dense";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private PeftExport() {
    }

    /** The checkpoint zip of {@code adapter} on module {@value #DEFAULT_MODULE}. */
    public static byte[] zip(QaLoraAdapter adapter) {
        return zip(adapter, DEFAULT_MODULE);
    }

    /** The checkpoint zip of {@code adapter} on {@code moduleName}, with its QA-LoRA settings. */
    public static byte[] zip(QaLoraAdapter adapter, String moduleName) {
        require(adapter != null, "adapter", "must not be null");
        return zip(PeftAdapter.of(adapter, moduleName), adapter.quantSpec(), adapter.quantizationTarget());
    }

    /** The checkpoint zip of {@code adapter}, trained with the QA-LoRA settings {@code spec} and {@code target}. */
    public static byte[] zip(PeftAdapter adapter, QuantSpec spec, QuantizationTarget target) {
        require(adapter != null, "adapter", "must not be null");
        ObjectNode config = config(adapter);
        config.put("qalora_group_size", spec.groupSize());
        config.put("quantization_bits", spec.bits());
        config.put("quantization_symmetric", spec.symmetric());
        config.put("quantization_target", target.name());
        return zip(adapter, config);
    }

    /** The checkpoint zip of a plain LoRA adapter. */
    public static byte[] zip(PeftAdapter adapter) {
        require(adapter != null, "adapter", "must not be null");
        return zip(adapter, config(adapter));
    }

    /** {@code base_model.model.<module>.<factor>.weight}, the name PEFT saves a factor under. */
    public static String tensorName(String moduleName, String factor) {
        return "base_model.model." + moduleName + "." + factor + ".weight";
    }

    private static byte[] zip(PeftAdapter a, ObjectNode config) {
        List<Tensor> tensors = List.of(
                Tensor.f32(tensorName(a.moduleName(), "lora_A"), new int[] {a.rank(), a.inFeatures()}, a.loraA()),
                Tensor.f32(tensorName(a.moduleName(), "lora_B"), new int[] {a.outFeatures(), a.rank()}, a.loraB()));
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(CONFIG_FILE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        entries.put(WEIGHTS_FILE, SafetensorsWriter.toBytes(Map.of("format", "pt"), tensors));
        return ZipArchive.write(entries);
    }

    /** The fields of PEFT's {@code LoraConfig} for one module, at the values this adapter has. */
    private static ObjectNode config(PeftAdapter a) {
        ObjectNode c = JSON.createObjectNode();
        c.put("peft_type", "LORA");
        c.putNull("task_type");
        c.putNull("base_model_name_or_path");
        c.putNull("revision");
        c.put("inference_mode", true);
        c.put("r", a.rank());
        if (a.alpha() == Math.rint(a.alpha()) && Math.abs(a.alpha()) < 1 << 24) {
            c.put("lora_alpha", (int) a.alpha());
        } else {
            c.put("lora_alpha", a.alpha());
        }
        c.putArray("target_modules").add(a.moduleName());
        c.put("lora_dropout", 0.0);
        c.put("fan_in_fan_out", false);
        c.put("bias", "none");
        c.put("use_rslora", a.rsLora());
        c.put("use_dora", false);
        c.put("use_qalora", false);
        c.putNull("modules_to_save");
        c.put("init_lora_weights", true);
        c.putNull("layers_to_transform");
        c.putNull("layers_pattern");
        c.putObject("rank_pattern");
        c.putObject("alpha_pattern");
        return c;
    }
}
