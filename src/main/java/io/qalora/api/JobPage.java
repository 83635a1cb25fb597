package io.qalora.api;

import io.qalora.job.Job;
import io.qalora.job.Page;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.List;

@Schema(name = "JobPage", description = "One page of jobs, newest first.")
record JobPage(
        @Schema(description = "The jobs of this page; pass the last one's id as 'after' for the next page.",
                requiredMode = RequiredMode.REQUIRED) List<JobResponse> data,
        @Schema(description = "Whether older jobs follow this page.", example = "false",
                requiredMode = RequiredMode.REQUIRED) boolean hasMore) {

    static JobPage of(Page<Job> page) {
        return new JobPage(page.data().stream().map(JobResponse::of).toList(), page.hasMore());
    }
}
