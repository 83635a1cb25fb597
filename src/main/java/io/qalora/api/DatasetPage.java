package io.qalora.api;

import io.qalora.job.DatasetInfo;
import io.qalora.job.Page;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.List;

@Schema(name = "DatasetPage", description = "One page of datasets, newest first.")
record DatasetPage(
        @Schema(description = "The datasets of this page; pass the last one's id as 'after' for the next page.",
                requiredMode = RequiredMode.REQUIRED) List<DatasetResponse> data,
        @Schema(description = "Whether older datasets follow this page.", example = "false",
                requiredMode = RequiredMode.REQUIRED) boolean hasMore) {

    static DatasetPage of(Page<DatasetInfo> page) {
        return new DatasetPage(page.data().stream().map(DatasetResponse::of).toList(), page.hasMore());
    }
}
