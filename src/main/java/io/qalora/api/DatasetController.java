package io.qalora.api;

import static org.springframework.http.MediaType.APPLICATION_JSON_VALUE;
import static org.springframework.http.MediaType.APPLICATION_OCTET_STREAM_VALUE;
import static org.springframework.http.MediaType.MULTIPART_FORM_DATA_VALUE;

import io.qalora.job.BlobStore;
import io.qalora.job.DatasetInfo;
import io.qalora.job.DatasetService;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Encoding;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.UUID;
import org.springframework.core.io.Resource;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.multipart.MultipartFile;

@Tag(name = "Datasets", description = "Training and validation data: upload, list, download, delete.")
@RestController
@RequestMapping("/v1/datasets")
class DatasetController {

    static final String UPLOAD_DESCRIPTION = """
            Three request forms, one answer:
            - `application/octet-stream`: the raw safetensors file as the body, the name as query parameter \
            `name`. Streamed straight to storage; the fastest form for large files.
            - `multipart/form-data`: the file as part `file`, the name as part or query parameter `name`.
            - `application/json`: a small dataset as arrays (`DatasetUpload`), stored as safetensors.

            The file holds `inputs [n, in]` (F32, F16, BF16 or F64) and exactly one of `targets [n, out]` \
            (floating, for regression) and `labels [n]` (I64, I32, I16, I8 or U8, each 0 or more, for \
            classification), and nothing else. `numClasses` is the largest label + 1. Whether the dataset fits a \
            layer is checked when a job is submitted. Bodies above `qalora.uploads.max-bytes` are refused with 413.""";

    private final DatasetService datasets;
    private final BlobStore blobs;

    DatasetController(DatasetService datasets, BlobStore blobs) {
        this.datasets = datasets;
        this.blobs = blobs;
    }

    @Operation(operationId = "uploadDataset", summary = "Upload a dataset", description = UPLOAD_DESCRIPTION,
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = APPLICATION_OCTET_STREAM_VALUE,
                            schema = @Schema(type = "string", format = "binary",
                                    description = "A safetensors file with inputs and targets or labels.")),
                    @Content(mediaType = MULTIPART_FORM_DATA_VALUE,
                            schema = @Schema(implementation = FileUpload.class),
                            encoding = @Encoding(name = "file", contentType = APPLICATION_OCTET_STREAM_VALUE)),
                    @Content(mediaType = APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = DatasetUpload.class))}))
    @ApiResponse(responseCode = "201", description = "Stored.",
            headers = @Header(name = "Location", description = "The new dataset's URL.",
                    schema = @Schema(type = "string")),
            content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = DatasetResponse.class)))
    @ApiResponse(responseCode = "400", description = "The safetensors file breaks a format rule, for example a label "
            + "below 0 (`invalid-safetensors`, naming `rule` and `tensor`), the JSON is malformed, or the part `file` "
            + "is "
            + "missing (`malformed-request`).")
    @ApiResponse(responseCode = "413",
            description = "The upload exceeds `qalora.uploads.max-bytes` (`payload-too-large`).")
    @ApiResponse(responseCode = "415", description = "Another content type (`unsupported-media-type`).")
    @ApiResponse(responseCode = "422", description = "A field or tensor has an illegal value: ragged or empty JSON "
            + "rows, row counts that differ, both or neither of targets and labels, a NaN or infinity in inputs or "
            + "targets (in JSON or in the file) (`invalid-parameter`, naming `field`). Nothing is stored.")
    @PostMapping(consumes = APPLICATION_OCTET_STREAM_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<DatasetResponse> uploadRaw(
            @Parameter(description = "A name for the dataset, at most 200 characters.", example = "train")
            @RequestParam(required = false) String name,
            HttpServletRequest request) throws IOException {
        try (InputStream body = request.getInputStream()) {
            return created(datasets.upload(name, body));
        }
    }

    @Operation(hidden = true)
    @PostMapping(consumes = MULTIPART_FORM_DATA_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<DatasetResponse> uploadMultipart(@RequestPart("file") MultipartFile file,
            @RequestParam(required = false) String name) throws IOException {
        try (InputStream body = file.getInputStream()) {
            return created(datasets.upload(name, body));
        }
    }

    @Operation(hidden = true)
    @PostMapping(consumes = APPLICATION_JSON_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<DatasetResponse> uploadJson(@RequestBody DatasetUpload body,
            @RequestParam(required = false) String name) {
        body.checkRows();
        return created(datasets.upload(body.name() != null ? body.name() : name, body.inputs(), body.targets(),
                body.labels()));
    }

    @Operation(operationId = "listDatasets", summary = "List datasets",
            description = "Newest first, `limit` at a time; continue with `after` = the last id of a page while "
                    + "`hasMore` is true.")
    @ApiResponse(responseCode = "200", description = "A page of datasets.")
    @ApiResponse(responseCode = "400",
            description = "`after` is not a UUID or `limit` not an integer (`malformed-request`).")
    @ApiResponse(responseCode = "422", description = "`limit` is outside 1..100 (`invalid-parameter`).")
    @GetMapping(produces = APPLICATION_JSON_VALUE)
    DatasetPage list(
            @Parameter(description = "Page size, 1 to 100.", example = "20")
            @RequestParam(defaultValue = "20") int limit,
            @Parameter(description = "The id of the last dataset of the previous page; absent for the first page.")
            @RequestParam(required = false) UUID after) {
        return DatasetPage.of(datasets.list(limit, after));
    }

    @Operation(operationId = "getDataset", summary = "Get a dataset",
            description = "The dataset's kind, shape, hash and size.")
    @ApiResponse(responseCode = "200", description = "The dataset.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such dataset (`not-found`).")
    @GetMapping(path = "/{id}", produces = APPLICATION_JSON_VALUE)
    DatasetResponse get(@Parameter(description = "The dataset's id.") @PathVariable UUID id) {
        return DatasetResponse.of(datasets.get(id));
    }

    @Operation(operationId = "downloadDataset", summary = "Download a dataset's safetensors file",
            description = "The file byte for byte as stored, streamed. The ETag is the file's SHA-256 (as in the "
                    + "dataset's `sha256`); `If-None-Match` with it answers 304. A `Range` header (to resume, say) "
                    + "answers 206 with those bytes.")
    @ApiResponse(responseCode = "200", description = "The safetensors file.",
            headers = {
                    @Header(name = "ETag", description = "The quoted SHA-256 of the file.",
                            schema = @Schema(type = "string")),
                    @Header(name = "Content-Disposition", description = "attachment; filename=<name>.safetensors",
                            schema = @Schema(type = "string"))},
            content = @Content(mediaType = APPLICATION_OCTET_STREAM_VALUE,
                    schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "304", description = "The client's copy (If-None-Match) is current.",
            content = @Content)
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such dataset (`not-found`).")
    @ApiResponse(responseCode = "500", description = "The stored bytes are corrupt (`corrupt-data`).")
    @GetMapping(path = "/{id}/file", produces = APPLICATION_OCTET_STREAM_VALUE)
    ResponseEntity<Resource> file(@Parameter(description = "The dataset's id.") @PathVariable UUID id,
            WebRequest request) {
        DatasetInfo dataset = datasets.get(id);
        return Downloads.of(blobs, dataset.blob(), Downloads.fileName(dataset.name(), id, ".safetensors"), request);
    }

    @Operation(operationId = "deleteDataset", summary = "Delete a dataset",
            description = "Deletes the dataset and its file. Finished jobs keep the dataset's id and SHA-256.")
    @ApiResponse(responseCode = "204", description = "Deleted.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such dataset (`not-found`).")
    @ApiResponse(responseCode = "409", description = "A queued or running job uses the dataset (`conflict`).")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@Parameter(description = "The dataset's id.") @PathVariable UUID id) {
        datasets.delete(id);
        return ResponseEntity.noContent().build();
    }

    private static ResponseEntity<DatasetResponse> created(DatasetInfo dataset) {
        return ResponseEntity.created(URI.create("/v1/datasets/" + dataset.id())).body(DatasetResponse.of(dataset));
    }
}
