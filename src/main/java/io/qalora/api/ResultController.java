package io.qalora.api;

import static org.springframework.http.MediaType.APPLICATION_JSON_VALUE;
import static org.springframework.http.MediaType.APPLICATION_OCTET_STREAM_VALUE;

import io.qalora.job.BlobRef;
import io.qalora.job.BlobStore;
import io.qalora.job.JobResult;
import io.qalora.job.JobService;
import io.qalora.job.QaLoraProperties;
import io.qalora.job.StoredResult;
import io.qalora.lora.GptqExport;
import io.qalora.lora.SafetensorsExport;
import io.qalora.tensor.SafetensorsReader;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.UUID;
import org.springframework.core.io.Resource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.WebRequest;

@Tag(name = "Results", description = "What a SUCCEEDED job (training or merge) produced: the report, the merged "
        + "quantized layer, the adapter.")
@RestController
@RequestMapping("/v1/jobs/{id}")
class ResultController {

    private final JobService jobs;
    private final BlobStore blobs;
    private final long jsonMaxElements;

    ResultController(JobService jobs, BlobStore blobs, QaLoraProperties properties) {
        this.jobs = jobs;
        this.blobs = blobs;
        this.jsonMaxElements = properties.results().jsonMaxElements();
    }

    @Operation(operationId = "getJobResult", summary = "Get a job's result report",
            description = "Quantization error, the evaluation of the deployed layer against full precision, the base "
                    + "layer alone and (with compareWithPtq) LoRA followed by post-training quantization, the merged "
                    + "layer's quantization, and provenance.")
    @ApiResponse(responseCode = "200", description = "The report.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such job (`not-found`).")
    @ApiResponse(responseCode = "409", description = "The job has not SUCCEEDED (`conflict`).")
    @GetMapping(path = "/result", produces = APPLICATION_JSON_VALUE)
    JobResultResponse result(@Parameter(description = "The job's id.") @PathVariable UUID id) {
        return JobResultResponse.of(jobs.result(id).result());
    }

    @Operation(operationId = "downloadMergedLayer", summary = "Download the merged quantized layer",
            description = """
                    The deployable layer W' = W + s B A, quantized group-wise. By default the safetensors file: \
                    `weight.qcodes` (codes; 1, 2, 4 and 8 bits packed low bits first into U8 row by row, 3, 5, 6 and 7 \
                    bits one U8 each, more bits I32), `weight.scales` and `weight.zeros` (F32 [out, groups]), `weight` \
                    (the dequantized F32 [out, in]) and `bias`, with bits, group size, symmetry and packing in the \
                    metadata; its ETag is its SHA-256, and `Range` requests are served. With `format=json`, the same \
                    as JSON arrays with the codes unpacked, for layers of at most \
                    `qalora.results.json-max-elements` weights. With `format=gptq`, a zip that AutoGPTQ loads: \
                    `model.safetensors` (`qweight` I32 [in*bits/32, out] packed along the input low bits first, \
                    `qzeros` I32 with the v1 zero-minus-one convention, `scales` F16 [groups, out], `g_idx`, `bias`) \
                    and `quantize_config.json`; for 2, 4 or 8 bits, in and out divisible by 32/bits, in divisible by \
                    the group size, and no zero point of 0 (the v1 format cannot store it), else 422. AutoGPTQ \
                    stores integer zero points, so a POOLED_ZERO_POINT layer's float zero points are rounded (rint, \
                    clamped to [0, 2^bits - 1]; one that ends at 0 is refused like any zero point of 0); the result's \
                    `quantization.integerZeroRounding` gives the error that rounding adds.""")
    @ApiResponse(responseCode = "200", description = "The merged layer.",
            headers = @Header(name = "ETag", description = "The quoted SHA-256 of the file (safetensors only).",
                    schema = @Schema(type = "string")),
            content = {
                    @Content(mediaType = APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string",
                            format = "binary")),
                    @Content(mediaType = APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = MergedLayerJson.class))})
    @ApiResponse(responseCode = "304", description = "The client's copy (If-None-Match) is current.",
            content = @Content)
    @ApiResponse(responseCode = "400",
            description = "An unknown format, or the id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such job (`not-found`).")
    @ApiResponse(responseCode = "409", description = "The job has not SUCCEEDED (`conflict`).")
    @ApiResponse(responseCode = "422", description = "`format=json` for a layer larger than "
            + "`qalora.results.json-max-elements`; download the safetensors file (`result-too-large-for-json`).")
    @GetMapping(path = "/merged", produces = {APPLICATION_OCTET_STREAM_VALUE, APPLICATION_JSON_VALUE})
    ResponseEntity<Resource> merged(@Parameter(description = "The job's id.") @PathVariable UUID id,
            @Parameter(description = "`safetensors` (the file), `json`, or `gptq` (an AutoGPTQ zip).",
                    schema = @Schema(allowableValues = {"safetensors", "json", "gptq"}, defaultValue = "safetensors"))
            @RequestParam(defaultValue = "safetensors") String format,
            WebRequest request) {
        if (!format.equalsIgnoreCase("safetensors")) {
            throw ProblemHandler.problem(ProblemType.MALFORMED_REQUEST,
                    "format: must be 'safetensors', 'json' or 'gptq', was '" + format + "'", Map.of("field", "format"));
        }
        BlobRef merged = file(jobs.result(id).merged(), "merged layer", id);
        return Downloads.of(blobs, merged, "job-" + id + "-merged.safetensors", request);
    }

    /** {@code ?format=json}, documented with {@link #merged}. */
    @Operation(hidden = true)
    @GetMapping(path = "/merged", params = "format=json", produces = APPLICATION_JSON_VALUE)
    MergedLayerJson mergedJson(@PathVariable UUID id) throws IOException {
        StoredResult stored = jobs.result(id);
        BlobRef merged = file(stored.merged(), "merged layer", id);
        JobResult.MergedLayer shape = stored.result().mergedLayer();
        long elements = (long) shape.outFeatures() * shape.inFeatures();
        if (elements > jsonMaxElements) {
            throw ProblemHandler.problem(ProblemType.RESULT_TOO_LARGE_FOR_JSON, "the merged layer has " + elements
                    + " weights (" + shape.outFeatures() + " x " + shape.inFeatures() + "), more than the "
                    + jsonMaxElements + " served as JSON; download it as safetensors (format=safetensors)",
                    Map.of("maxElements", jsonMaxElements));
        }
        try (InputStream in = blobs.open(merged)) {
            return MergedLayerJson.of(SafetensorsExport.readMerged(SafetensorsReader.read(in)));
        }
    }

    /** {@code ?format=gptq}, documented with {@link #merged}. */
    @Operation(hidden = true)
    @GetMapping(path = "/merged", params = "format=gptq", produces = "application/zip")
    ResponseEntity<byte[]> mergedGptq(@PathVariable UUID id) throws IOException {
        BlobRef merged = file(jobs.result(id).merged(), "merged layer", id);
        try (InputStream in = blobs.open(merged)) {
            // Integer zeros are kept as they are; a pooled merge's float ones are rounded.
            byte[] zip = GptqExport.zip(SafetensorsExport.readMerged(SafetensorsReader.read(in)).withIntegerZeros());
            return zipFile(zip, "job-" + id + "-gptq.zip");
        }
    }

    /** {@code ?format=peft}, documented with {@link #adapter}. */
    @Operation(hidden = true)
    @GetMapping(path = "/adapter", params = "format=peft", produces = "application/zip")
    ResponseEntity<byte[]> adapterPeft(@PathVariable UUID id, @RequestParam(required = false) String module)
            throws IOException {
        BlobRef adapter = file(jobs.result(id).adapter(), "adapter", id);
        try (InputStream in = blobs.open(adapter)) {
            byte[] zip = SafetensorsExport.adapterAsPeft(SafetensorsReader.read(in), module);
            return zipFile(zip, "job-" + id + "-peft.zip");
        }
    }

    private static ResponseEntity<byte[]> zipFile(byte[] zip, String name) {
        return ResponseEntity.ok().contentType(MediaType.parseMediaType("application/zip"))
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + name + "\"").body(zip);
    }

    @Operation(operationId = "downloadAdapter", summary = "Download the trained adapter",
            description = "A safetensors file with the LoRA factors `lora_A [r, in]` and `lora_B [out, r]` (F32) and "
                    + "rank, alpha, scaling and the quantization settings in the metadata; its ETag is its SHA-256, "
                    + "and `Range` requests are served. With `format=peft`, a Hugging Face PEFT checkpoint zip "
                    + "(`adapter_config.json` with peft_type LORA, r, lora_alpha, target_modules, use_rslora and the "
                    + "QA-LoRA settings; `adapter_model.safetensors` with `base_model.model.<module>.lora_A.weight` "
                    + "and `...lora_B.weight`), for the module named by `module` (default: the module a merged PEFT "
                    + "adapter was uploaded for, else `dense`). A trained adapter's config carries its QA-LoRA "
                    + "settings; a merged upload's is plain LoRA.")
    @ApiResponse(responseCode = "200", description = "The adapter file.",
            headers = @Header(name = "ETag", description = "The quoted SHA-256 of the file.",
                    schema = @Schema(type = "string")),
            content = @Content(mediaType = APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string",
                    format = "binary")))
    @ApiResponse(responseCode = "304", description = "The client's copy (If-None-Match) is current.",
            content = @Content)
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such job (`not-found`).")
    @ApiResponse(responseCode = "409", description = "The job has not SUCCEEDED (`conflict`).")
    @GetMapping(path = "/adapter", produces = APPLICATION_OCTET_STREAM_VALUE)
    ResponseEntity<Resource> adapter(@Parameter(description = "The job's id.") @PathVariable UUID id,
            @Parameter(description = "`safetensors` (the file) or `peft` (a PEFT checkpoint zip).",
                    schema = @Schema(allowableValues = {"safetensors", "peft"}, defaultValue = "safetensors"))
            @RequestParam(defaultValue = "safetensors") String format,
            @Parameter(description = "With `format=peft`: the module the adapter applies to.", example = "dense")
            @RequestParam(required = false) String module,
            WebRequest request) {
        if (!format.equalsIgnoreCase("safetensors")) {
            throw ProblemHandler.problem(ProblemType.MALFORMED_REQUEST,
                    "format: must be 'safetensors' or 'peft', was '" + format + "'", Map.of("field", "format"));
        }
        BlobRef adapter = file(jobs.result(id).adapter(), "adapter", id);
        return Downloads.of(blobs, adapter, "job-" + id + "-adapter.safetensors", request);
    }

    /** A succeeded job always has both files, so a missing one is the server's fault (500), not the client's. */
    private static BlobRef file(BlobRef blob, String what, UUID jobId) {
        if (blob == null) {
            throw new IllegalStateException("job " + jobId + " SUCCEEDED without a stored " + what);
        }
        return blob;
    }
}
