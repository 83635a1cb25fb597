package io.qalora.api;

import io.qalora.job.LayerInfo;
import io.qalora.job.Page;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.List;

@Schema(name = "LayerPage", description = "One page of layers, newest first.")
record LayerPage(
        @Schema(description = "The layers of this page; pass the last one's id as 'after' for the next page.",
                requiredMode = RequiredMode.REQUIRED) List<LayerResponse> data,
        @Schema(description = "Whether older layers follow this page.", example = "false",
                requiredMode = RequiredMode.REQUIRED) boolean hasMore) {

    static LayerPage of(Page<LayerInfo> page) {
        return new LayerPage(page.data().stream().map(LayerResponse::of).toList(), page.hasMore());
    }
}
