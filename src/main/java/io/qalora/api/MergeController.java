package io.qalora.api;

import static org.springframework.http.MediaType.APPLICATION_JSON_VALUE;
import static org.springframework.http.MediaType.MULTIPART_FORM_DATA_VALUE;

import io.qalora.job.JobService;
import io.qalora.job.JobStatus;
import io.qalora.job.MergeService;
import io.qalora.job.PayloadTooLargeException;
import io.qalora.job.QaLoraProperties;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Encoding;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

@Tag(name = "Merges", description = "Merge an existing LoRA adapter into a layer and quantize it, without training.")
@RestController
@RequestMapping("/v1/merges")
class MergeController {

    private static final String ADAPTER_PART = "adapter";
    private static final String REQUEST_PART = "request";

    private final MergeService merges;
    private final JsonMapper json;
    private final long maxBytes;

    MergeController(MergeService merges, JsonMapper json, QaLoraProperties properties) {
        this.merges = merges;
        this.json = json;
        this.maxBytes = properties.uploads().maxBytes();
    }

    @Operation(operationId = "mergeAdapter", summary = "Merge an adapter into a layer and quantize it",
            description = """
                    W' = W + s B A for a stored layer W and an adapter that was trained elsewhere, quantized \
                    group-wise with RTN or GPTQ exactly as a training job's merge is. Two request forms:
                    - `application/json`: the factors as arrays (`MergeRequest`: `loraA [r][in]`, `loraB [out][r]`, \
                    `alpha`, `rsLora`) and the settings.
                    - `multipart/form-data`: a PEFT checkpoint zip as part `adapter` (adapter_config.json and \
                    adapter_model.safetensors), and the settings (`MergeOptions`) as the JSON part `request` or as \
                    form fields. A checkpoint of several modules needs `module`.

                    A merge is a job of kind MERGE: `GET /v1/jobs/{id}` and its `/result`, `/merged` (safetensors, \
                    `?format=json`, `?format=gptq`), `/adapter` (`?format=peft`) and `/events` serve it. A layer of \
                    at most `qalora.merges.sync-max-elements` weights (out x in) is merged within the request: 201 \
                    with the SUCCEEDED job. A larger one, or any with the header `Prefer: respond-async`, is queued \
                    for the workers: 202 with the QUEUED job; poll its Location. Every check runs before anything \
                    is stored, and a rejected request stores nothing.

                    With an `Idempotency-Key`, a retry of the same request answers 200 with the job the first one \
                    created; the same key with a different request is a 409.""",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = APPLICATION_JSON_VALUE, schema = @Schema(implementation = MergeRequest.class)),
                    @Content(mediaType = MULTIPART_FORM_DATA_VALUE, schema = @Schema(implementation = MergeUpload.class),
                            encoding = {
                                    @Encoding(name = ADAPTER_PART, contentType = "application/zip"),
                                    @Encoding(name = REQUEST_PART, contentType = APPLICATION_JSON_VALUE)})}))
    @ApiResponse(responseCode = "201", description = "Merged within the request: the SUCCEEDED job.",
            headers = @Header(name = "Location", description = "The job's URL.", schema = @Schema(type = "string")),
            content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = JobResponse.class)))
    @ApiResponse(responseCode = "202", description = "Queued for a worker: the QUEUED job.",
            headers = {
                    @Header(name = "Location", description = "The job's URL.", schema = @Schema(type = "string")),
                    @Header(name = "Preference-Applied", description = "`respond-async` when the client asked for it.",
                            schema = @Schema(type = "string"))},
            content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = JobResponse.class)))
    @ApiResponse(responseCode = "200", description = "A replay: the job an earlier request with this Idempotency-Key "
            + "created.", content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = JobResponse.class)))
    @ApiResponse(responseCode = "400", description = "Malformed JSON, a value of the wrong type, a missing part "
            + "`adapter`, settings given both as part `request` and as form fields (`malformed-request`, naming "
            + "`field`); a safetensors file in the checkpoint that breaks a format rule (`invalid-safetensors`).")
    @ApiResponse(responseCode = "404", description = "The layer or the calibration dataset does not exist "
            + "(`not-found`, naming `resource`).")
    @ApiResponse(responseCode = "409",
            description = "The Idempotency-Key was used for a different request (`conflict`).")
    @ApiResponse(responseCode = "413", description = "The body or the checkpoint exceeds `qalora.uploads.max-bytes` "
            + "(`payload-too-large`).")
    @ApiResponse(responseCode = "415", description = "Neither JSON nor multipart (`unsupported-media-type`).")
    @ApiResponse(responseCode = "422", description = "An illegal value (`invalid-parameter`, naming `field`): "
            + "`loraA` or `loraB` ragged, not finite or of a shape that does not fit the layer (A [r, in], B [out, r], "
            + "r at most min(in, out)); `adapter` not a PEFT LoRA checkpoint of this layer's shape (or a config "
            + "field, e.g. `adapter_config.json lora_alpha`); `module` missing while the checkpoint adapts several "
            + "modules, or not among them; `quantizationBits`, `groupSize` out of range; `calibrationDatasetId` "
            + "missing with GPTQ, given with RTN, or of other inFeatures; `alpha` not finite; too much `metadata`.")
    @PostMapping(consumes = APPLICATION_JSON_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<JobResponse> merge(@RequestBody MergeRequest request,
            @Parameter(description = "A client-chosen key, 1 to 200 characters, that makes retries safe: the same key "
                    + "with the same request returns the first job.", example = "merge-1")
            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
            @Parameter(description = "`respond-async` queues the merge whatever the layer's size.",
                    example = "respond-async")
            @RequestHeader(name = "Prefer", required = false) String prefer) {
        return answer(merges.submit(request.toSubmission(), idempotencyKey, respondAsync(prefer)), prefer);
    }

    @Operation(hidden = true)
    @PostMapping(consumes = MULTIPART_FORM_DATA_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<JobResponse> mergeUpload(@RequestPart(ADAPTER_PART) MultipartFile adapter,
            MultipartHttpServletRequest request,
            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
            @RequestHeader(name = "Prefer", required = false) String prefer) throws IOException {
        if (adapter.getSize() > maxBytes) {
            throw new PayloadTooLargeException(maxBytes);
        }
        MergeOptions options = options(request);
        return answer(merges.submit(options.toSubmission(adapter.getBytes()), idempotencyKey, respondAsync(prefer)),
                prefer);
    }

    /** The settings of a multipart merge: the JSON part {@code request}, or the form fields. */
    private MergeOptions options(MultipartHttpServletRequest request) throws IOException {
        Set<String> otherFiles = new TreeSet<>(request.getFileMap().keySet());
        otherFiles.removeAll(Set.of(ADAPTER_PART, REQUEST_PART));
        if (!otherFiles.isEmpty()) {
            throw malformed(otherFiles.iterator().next(), "is not a part of a merge; the parts are '" + ADAPTER_PART
                    + "' and '" + REQUEST_PART + "' or the settings' form fields");
        }
        Map<String, String[]> fields = new TreeMap<>(request.getParameterMap());
        MultipartFile requestFile = request.getFile(REQUEST_PART);
        String[] requestField = fields.remove(REQUEST_PART);
        String requestJson = requestFile != null ? new String(requestFile.getBytes(), StandardCharsets.UTF_8)
                : requestField == null ? null : requestField[0];
        if (requestJson != null) {
            if (!fields.isEmpty() || (requestField != null && requestField.length > 1)) {
                throw malformed(REQUEST_PART, "give the settings either as the JSON part 'request' or as form fields,"
                        + " not both (also found " + (fields.isEmpty() ? "a second 'request'" : fields.keySet()) + ")");
            }
            return read(request, () -> json.readValue(requestJson, MergeOptions.class));
        }
        ObjectNode node = json.createObjectNode();
        for (Map.Entry<String, String[]> field : fields.entrySet()) {
            if (field.getValue().length != 1) {
                throw malformed(field.getKey(), "is given " + field.getValue().length + " times");
            }
            node.set(field.getKey(), scalar(field.getValue()[0]));
        }
        return read(request, () -> json.treeToValue(node, MergeOptions.class));
    }

    /** A form field's text as the JSON scalar it spells (a number, true, false), else as a string. */
    private JsonNode scalar(String text) {
        try {
            JsonNode parsed = json.readTree(text);
            if (parsed != null && (parsed.isNumber() || parsed.isBoolean())) {
                return parsed;
            }
        } catch (JacksonException notJson) {
            // A UUID, an enum constant, a module path: text.
        }
        return json.getNodeFactory().stringNode(text);
    }

    private interface Reading {
        MergeOptions read();
    }

    /** Settings Jackson refuses are answered like a refused JSON body: 400 naming the field. */
    private static MergeOptions read(MultipartHttpServletRequest request, Reading reading) {
        MergeOptions options;
        try {
            options = reading.read();
        } catch (JacksonException e) {
            throw new HttpMessageNotReadableException("the merge settings cannot be read", e,
                    new ServletServerHttpRequest(request));
        }
        if (options == null) {
            throw malformed(REQUEST_PART, "must be a JSON object of merge settings, was null");
        }
        return options;
    }

    private static RuntimeException malformed(String field, String message) {
        return ProblemHandler.problem(ProblemType.MALFORMED_REQUEST, field + ": " + message, Map.of("field", field));
    }

    /** RFC 7240's {@code Prefer: respond-async}, among other preferences. */
    static boolean respondAsync(String prefer) {
        return prefer != null && Arrays.stream(prefer.split("[,;]")).map(String::strip)
                .anyMatch("respond-async"::equalsIgnoreCase);
    }

    private static ResponseEntity<JobResponse> answer(JobService.Submitted submitted, String prefer) {
        JobResponse job = JobResponse.of(submitted.job());
        if (!submitted.created()) {
            return ResponseEntity.ok(job);
        }
        URI location = URI.create("/v1/jobs/" + job.id());
        if (job.status() == JobStatus.SUCCEEDED) {
            return ResponseEntity.created(location).body(job);
        }
        ResponseEntity.BodyBuilder accepted = ResponseEntity.accepted().location(location);
        if (respondAsync(prefer)) {
            accepted.header("Preference-Applied", "respond-async");
        }
        return accepted.body(job);
    }
}
