package io.qalora.job;

import io.qalora.lora.EngineInfo;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.NativeBlas;
import io.qalora.lora.PeftAdapter;
import io.qalora.lora.QaLoraAdapter;
import io.qalora.lora.SafetensorsExport;
import io.qalora.quant.QuantErrorStats;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;
import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsWriter;
import java.util.Map;
import java.util.UUID;

/**
 * The work of a merge job, the same in a request and on a worker: {@code W' = W + s B A} with the
 * uploaded factors, quantized by RTN or GPTQ exactly as a trained adapter's merge is (the same
 * {@link QaLoraAdapter#mergeToOriginalLayer} code path), and the report and file of the result.
 */
final class AdapterMerge {

    /** The report and the merged layer's safetensors file, before they are stored. */
    record Outcome(JobResult report, byte[] mergedFile) {
    }

    private AdapterMerge() {
    }

    /**
     * @param calibration GPTQ's inputs, null for RTN
     * @param calibrationInfo the dataset {@code calibration} came from, null for RTN
     */
    static Outcome run(UUID jobId, LayerInfo layerInfo, DenseLayer base, PeftAdapter factors, QuantSpec spec,
            QuantizerKind quantizer, String adapterSha256, Calibration calibration, DatasetInfo calibrationInfo) {
        long start = System.nanoTime();
        try (QaLoraAdapter adapter = factors.adapterBuilder(base).quantSpec(spec).build()) {
            MergedLayer merged = quantizer.needsCalibration()
                    ? adapter.mergeToOriginalLayer(quantizer, calibration.inputs(), calibration.rows())
                    : adapter.mergeToOriginalLayer();
            float[] fullPrecision = adapter.mergedWeight();
            QuantStats mergedStats = merged.weight().stats(fullPrecision);
            JobResult report = new JobResult(
                    new JobResult.Quantization(adapter.loraFactorStats(), mergedStats,
                            JobResult.Quality.of(QuantErrorStats.of(fullPrecision, merged.weight()))),
                    null,
                    new JobResult.MergedLayer(spec.bits(), spec.groupSize(), spec.symmetric(), base.inFeatures(),
                            base.outFeatures(), quantizer),
                    new JobResult.Provenance(EngineInfo.VERSION, 0, layerInfo.blob().sha256(), null, null,
                            (System.nanoTime() - start) / 1e9, 0, NativeBlas.threads(), adapterSha256,
                            calibrationInfo == null ? null : calibrationInfo.blob().sha256()));
            byte[] mergedFile = SafetensorsWriter.toBytes(SafetensorsExport.merged(merged,
                    Map.of("job_id", jobId.toString(), "quantizer", quantizer.name(), "source", "merge")));
            return new Outcome(report, mergedFile);
        }
    }
}
