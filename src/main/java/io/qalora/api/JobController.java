package io.qalora.api;

import static org.springframework.http.MediaType.APPLICATION_JSON_VALUE;

import io.qalora.job.JobKind;
import io.qalora.job.JobService;
import io.qalora.job.JobStatus;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.UUID;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Jobs", description = "Jobs: submit training, watch and cancel any job (training or merge).")
@RestController
@RequestMapping("/v1/jobs")
class JobController {

    private final JobService jobs;

    JobController(JobService jobs) {
        this.jobs = jobs;
    }

    @Operation(operationId = "submitJob", summary = "Submit a training job",
            description = """
                    Checks the request against the layer and datasets (their shapes must fit: the datasets' \
                    `inFeatures` equal the layer's, targets as wide as its `outFeatures`, labels below it) and the \
                    hyperparameters' ranges, then queues the job. Nothing is stored when a check fails.

                    With an `Idempotency-Key`, a retry of the same request answers 200 with the job the first one \
                    created instead of queueing another; the same key with a different request is a 409.""")
    @ApiResponse(responseCode = "201", description = "Queued.",
            headers = @Header(name = "Location", description = "The new job's URL.", schema = @Schema(type = "string")),
            content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = JobResponse.class)))
    @ApiResponse(responseCode = "200", description = "A replay: the job an earlier request with this Idempotency-Key "
            + "created.", content = @Content(mediaType = APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = JobResponse.class)))
    @ApiResponse(responseCode = "400", description = "Malformed JSON, or a value of the wrong type, such as an unknown "
            + "optimizer or a string for a number (`malformed-request`, naming `field`, e.g. "
            + "`hyperparameters.optimizer`).")
    @ApiResponse(responseCode = "404", description = "The layer or a dataset does not exist (`not-found`, naming "
            + "`resource`).")
    @ApiResponse(responseCode = "409",
            description = "The Idempotency-Key was used for a different request (`conflict`).")
    @ApiResponse(responseCode = "415", description = "Not JSON (`unsupported-media-type`).")
    @ApiResponse(responseCode = "422",
            description = "An illegal value (`invalid-parameter`, naming `field`): a missing "
            + "id, a dataset that does not fit the layer (`trainingDatasetId`, `validationDatasetId`), a "
            + "hyperparameter "
            + "out of range (`hyperparameters.rank`, ...), too much metadata, a bad Idempotency-Key.")
    @PostMapping(consumes = APPLICATION_JSON_VALUE, produces = APPLICATION_JSON_VALUE)
    ResponseEntity<JobResponse> submit(
            @io.swagger.v3.oas.annotations.parameters.RequestBody(description = "The job to run.", required = true)
            @RequestBody JobRequest request,
            @Parameter(description = "A client-chosen key, 1 to 200 characters, that makes retries safe: the same key "
                    + "with the same request returns the first job.", example = "demo-1")
            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        JobService.Submitted submitted = jobs.submit(request.toSubmission(), idempotencyKey);
        JobResponse job = JobResponse.of(submitted.job());
        return submitted.created()
                ? ResponseEntity.created(URI.create("/v1/jobs/" + job.id())).body(job)
                : ResponseEntity.ok(job);
    }

    @Operation(operationId = "listJobs", summary = "List jobs",
            description = "Newest first, optionally of one status and one kind, `limit` at a time; continue with "
                    + "`after` = the last id of a page while `hasMore` is true.")
    @ApiResponse(responseCode = "200", description = "A page of jobs.")
    @ApiResponse(responseCode = "400", description = "An unknown status or kind, or `after` not a UUID "
            + "(`malformed-request`, naming `field`).")
    @ApiResponse(responseCode = "422", description = "`limit` is outside 1..100 (`invalid-parameter`).")
    @GetMapping(produces = APPLICATION_JSON_VALUE)
    JobPage list(
            @Parameter(description = "Only jobs in this status; absent for all.")
            @RequestParam(required = false) JobStatus status,
            @Parameter(description = "Only jobs of this kind (training or merge); absent for all.")
            @RequestParam(required = false) JobKind kind,
            @Parameter(description = "Page size, 1 to 100.", example = "20")
            @RequestParam(defaultValue = "20") int limit,
            @Parameter(description = "The id of the last job of the previous page; absent for the first page.")
            @RequestParam(required = false) UUID after) {
        return JobPage.of(jobs.list(status, kind, limit, after));
    }

    @Operation(operationId = "getJob", summary = "Get a job",
            description = "Status, progress and losses; poll this (or the events) to follow a job.")
    @ApiResponse(responseCode = "200", description = "The job.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such job (`not-found`).")
    @GetMapping(path = "/{id}", produces = APPLICATION_JSON_VALUE)
    JobResponse get(@Parameter(description = "The job's id.") @PathVariable UUID id) {
        return JobResponse.of(jobs.get(id));
    }

    @Operation(operationId = "cancelJob", summary = "Cancel a job",
            description = "A QUEUED job becomes CANCELLED at once; a RUNNING one stops within a training step. A "
                    + "finished job is left as it is, so calling this again is harmless. Answers the job as it is now.")
    @ApiResponse(responseCode = "200", description = "The job after the request.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID (`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such job (`not-found`).")
    @PostMapping(path = "/{id}/cancel", produces = APPLICATION_JSON_VALUE)
    JobResponse cancel(@Parameter(description = "The job's id.") @PathVariable UUID id) {
        return JobResponse.of(jobs.cancel(id));
    }

    @Operation(operationId = "listJobEvents", summary = "Read a job's event log",
            description = "Events with an id above `after`, oldest first: status changes, training steps with their "
                    + "loss, epoch means, notes. Poll with `after` = the previous answer's `nextAfter`.")
    @ApiResponse(responseCode = "200", description = "The events.")
    @ApiResponse(responseCode = "400", description = "The id is not a UUID or a parameter not a number "
            + "(`malformed-request`).")
    @ApiResponse(responseCode = "404", description = "No such job (`not-found`).")
    @ApiResponse(responseCode = "422", description = "`limit` is outside 1..10000 (`invalid-parameter`).")
    @GetMapping(path = "/{id}/events", produces = APPLICATION_JSON_VALUE)
    JobEventPage events(@Parameter(description = "The job's id.") @PathVariable UUID id,
            @Parameter(description = "Only events with a larger id; 0 for all.", example = "0")
            @RequestParam(defaultValue = "0") long after,
            @Parameter(description = "At most this many events, 1 to 10000.", example = "1000")
            @RequestParam(defaultValue = "1000") int limit) {
        return JobEventPage.of(jobs.events(id, after, limit), after);
    }
}
