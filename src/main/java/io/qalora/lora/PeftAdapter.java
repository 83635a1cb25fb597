package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.tensor.DenseLayer;
import java.util.Arrays;

/**
 * A LoRA adapter of one module as PEFT stores it (Hu et al., 2021): {@code A [r, in]},
 * {@code B [out, r]} and the update {@code s B A} with {@code s = alpha / r}, or
 * {@code alpha / sqrt(r)} with rsLoRA (Kalajdzievski, 2023).
 *
 * @param moduleName the module path inside the model, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param rank r, at least 1
 * @param alpha lora_alpha
 * @param rsLora whether the scaling is {@code alpha / sqrt(r)}
 * @param loraA row-major {@code [r, in]}
 * @param loraB row-major {@code [out, r]}
 */
public record PeftAdapter(String moduleName, int rank, int inFeatures, int outFeatures, float alpha, boolean rsLora,
        float[] loraA, float[] loraB) {

    public PeftAdapter {
        require(ModuleNames.valid(moduleName), "moduleName", "must be a dotted module path, was '" + moduleName + "'");
        require(rank >= 1 && inFeatures >= 1 && outFeatures >= 1, "rank", "rank, inFeatures and outFeatures must be at least 1");
        require(Float.isFinite(alpha), "alpha", "must be finite, was " + alpha);
        require(loraA != null && loraA.length == (long) rank * inFeatures, "loraA", "must hold rank x inFeatures values");
        require(loraB != null && loraB.length == (long) outFeatures * rank, "loraB", "must hold outFeatures x rank values");
    }

    /**
     * The adapter's factors and settings, as PEFT would see them; a pooled A (POOLED_ZERO_POINT) as
     * its standard equivalent {@link QaLoraAdapter#standardLoraA()}, which gives the same update.
     */
    public static PeftAdapter of(QaLoraAdapter adapter, String moduleName) {
        return new PeftAdapter(moduleName, adapter.rank(), adapter.inFeatures(), adapter.outFeatures(), adapter.alpha(),
                adapter.rsLora(), adapter.standardLoraA(), adapter.loraB());
    }

    /** {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public double scaling() {
        return rsLora ? alpha / Math.sqrt(rank) : (double) alpha / rank;
    }

    /**
     * A builder of a {@link QaLoraAdapter} on {@code base} that starts from these factors, with
     * this rank, alpha and scaling rule; quantization settings are left to the caller.
     */
    public QaLoraAdapterBuilder adapterBuilder(DenseLayer base) {
        require(base != null && base.inFeatures() == inFeatures && base.outFeatures() == outFeatures, "baseLayer",
                "must be [" + outFeatures + ", " + inFeatures + "] to take this adapter");
        require(alpha > 0, "alpha", "must be positive to carry over: QaLoraAdapter reads alpha <= 0 as alpha = r, was " + alpha);
        return QaLoraAdapter.builder(base).rank(rank).alpha(alpha).rsLora(rsLora).factors(loraA.clone(), loraB.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PeftAdapter p && moduleName.equals(p.moduleName) && rank == p.rank
                && inFeatures == p.inFeatures && outFeatures == p.outFeatures
                && Float.compare(alpha, p.alpha) == 0 && rsLora == p.rsLora
                && Arrays.equals(loraA, p.loraA) && Arrays.equals(loraB, p.loraB);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * moduleName.hashCode() + Arrays.hashCode(loraA)) + Arrays.hashCode(loraB);
    }

    @Override
    public String toString() {
        return "PeftAdapter[" + moduleName + ", r=" + rank + ", " + outFeatures + "x" + inFeatures + ", alpha=" + alpha
                + ", rsLora=" + rsLora + "]";
    }
}
