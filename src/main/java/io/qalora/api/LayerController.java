package io.qalora.api;

import static org.springframework.http.MediaType.APPLICATION_JSON_VALUE;
import static org.springframework.http.MediaType.APPLICATION_OCTET_STREAM_VALUE;
import static org.springframework.http.MediaType.MULTIPART_FORM_DATA_VALUE;

import io.qalora.job.BlobStore;
import io.qalora.job.LayerInfo;
import io.qalora.job.LayerService;
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

@Tag(name = "Layers", description = "Base layers y = W x + b to fine-tune: upload, list, download, delete.")
@RestController
@RequestMapping("/v1/layers")
class LayerController {

    static final String UPLOAD_DESCRIPTION = """
            Three request forms, one answer:
            - `application/octet-stream`: the raw safetensors file as the body, the name as query parameter \
            `name`. Streamed straight to storage; the fastest form for large files.
            - `multipart/form-data`: the file as part `file`, the name as part or query parameter `name`.
            - `application/json`: a small layer as arrays (`LayerUpload`), stored as F32 safetensors.

            The file holds `weight [out, in]` and optionally `bias [out]`, of dtype F32, F16, BF16 or F64, and \
            nothing else; the header is checked before a byte is stored, and the file is stored completely or \
            not at all. Bodies above `qalora.uploads.max-bytes` are refused with 413.""";

    private final LayerService layers;
    private final BlobStore blobs;

    LayerController(LayerService layers, BlobStore blobs) {
        this.layers = layers;
        this.blobs = blobs;
    }

    @Operation(operationId = "uploadLayer", summary = "Upload a base layer", description = UPLOAD_DESCRIPTION,
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = APPLICATION_OCTET_STREAM_VALUE,
                            schema = @Schema(type = "string", format = "binary",
                                    description = "A safetensors file: weight [out, in], optionally bias [out].")),
                    @Content(mediaType = MULTIPART_FORM_DATA_VALUE, schema = @Schema(implementation = FileUpload.class),
                            encoding = @Encoding(name = "file", contentType = APPLICATION_OCTET_STREAM_VALUE)),
                    @Content(mediaType = APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = LayerUpload.class))}))
    @ApiResponse(responseCode = "201", description = "Stored.",
            headers = @Header(name = "Location", description = "The new layer's URL.",
                    schema = @Schema(type = "string")),
            content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = LayerResponse.class)))
    @ApiResponse(responseCode = "400",
            description = "The safetensors file breaks a format rule (`invalid-safetensors`, "
            + "naming `rule` and `tensor`), the JSON is malformed, or the part `file` is missing "
            + "(`malformed-request`).")
    @ApiResponse(responseCode = "413",
            description = "The upload exceeds `qalora.uploads.max-bytes` (`payload-too-large`).")
    @ApiResponse(responseCode = "415", description = "Another content type (`unsupported-media-type`).")
    @ApiResponse(responseCode = "422", description = "A field or tensor has an illegal value: ragged JSON rows, a "
            + "bias of the wrong length, a NaN or infinity in weight or bias (in JSON or in the file), a name over 200 "
            + "characters (`invalid-parameter`, naming `field`, and the value's index). Nothing is stored.")
    @PostMapping(consumes = APPLICATION_OCTET_STREAM_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<LayerResponse> uploadRaw(
            @Parameter(description = "A name for the layer, at most 200 characters.", example = "demo")
            @RequestParam(required = false) String name,
            HttpServletRequest request) throws IOException {
        try (InputStream body = request.getInputStream()) {
            return created(layers.upload(name, body));
        }
    }

    @Operation(hidden = true)
    @PostMapping(consumes = MULTIPART_FORM_DATA_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<LayerResponse> uploadMultipart(@RequestPart("file") MultipartFile file,
            @RequestParam(required = false) String name) throws IOException {
        try (InputStream body = file.getInputStream()) {
            return created(layers.upload(name, body));
        }
    }

    @Operation(hidden = true)
    @PostMapping(consumes = APPLICATION_JSON_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<LayerResponse> uploadJson(@RequestBody LayerUpload body,
            @RequestParam(required = false) String name) {
        return created(layers.upload(body.name() != null ? body.name() : name, body.toDenseLayer()));
    }

    @Operation(operationId = "listLayers", summary = "List layers",
            description = "Newest first, `limit` at a time; continue with `after` = the last id of a page while "
                    + "`hasMore` is true.")
    @ApiResponse(responseCode = "200", description = "A page of layers.")
    @ApiResponse(responseCode = "400",
            description = "`after` is not a UUID or `limit` not an integer (`malformed-request`).")
    @ApiResponse(responseCode = "422", description = "`limit` is outside 1..100 (`invalid-parameter`).")
    @GetMapping(produces = APPLICATION_JSON_VALUE)
    LayerPage list(
            @Parameter(description = "Page size, 1 to 100.", example = "20")
            @RequestParam(defaultValue = "20") int limit,
            @Parameter(description = "The id of the last layer of the previous page; absent for the first page.")
            @RequestParam(required = false) UUID after) {
        return LayerPage.of(layers.list(limit, after));
    }

    @Operation(operationId = "getLayer", summary = "Get a layer", description = "The layer's shape, hash and size.")
    @ApiResponse(responseCode = "200", description = "The layer.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such layer (`not-found`).")
    @GetMapping(path = "/{id}", produces = APPLICATION_JSON_VALUE)
    LayerResponse get(@Parameter(description = "The layer's id.") @PathVariable UUID id) {
        return LayerResponse.of(layers.get(id));
    }

    @Operation(operationId = "downloadLayerWeights", summary = "Download a layer's safetensors file",
            description = "The file byte for byte as stored, streamed. The ETag is the file's SHA-256 (as in the "
                    + "layer's `sha256`); `If-None-Match` with it answers 304. A `Range` header (to resume, say) "
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
    @ApiResponse(responseCode = "404", description = "No such layer (`not-found`).")
    @ApiResponse(responseCode = "500", description = "The stored bytes are corrupt (`corrupt-data`).")
    @GetMapping(path = "/{id}/weights", produces = APPLICATION_OCTET_STREAM_VALUE)
    ResponseEntity<Resource> weights(@Parameter(description = "The layer's id.") @PathVariable UUID id,
            WebRequest request) {
        LayerInfo layer = layers.get(id);
        return Downloads.of(blobs, layer.blob(), Downloads.fileName(layer.name(), id, ".safetensors"), request);
    }

    @Operation(operationId = "deleteLayer", summary = "Delete a layer",
            description = "Deletes the layer and its file. Finished jobs keep the layer's id and SHA-256.")
    @ApiResponse(responseCode = "204", description = "Deleted.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such layer (`not-found`).")
    @ApiResponse(responseCode = "409", description = "A queued or running job uses the layer (`conflict`).")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@Parameter(description = "The layer's id.") @PathVariable UUID id) {
        layers.delete(id);
        return ResponseEntity.noContent().build();
    }

    private static ResponseEntity<LayerResponse> created(LayerInfo layer) {
        return ResponseEntity.created(URI.create("/v1/layers/" + layer.id())).body(LayerResponse.of(layer));
    }
}
