package io.qalora.api;

import io.qalora.job.JobEvent;
import io.qalora.job.JobEventType;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.time.Instant;
import java.util.List;

@Schema(name = "JobEventPage", description = "Events of a job in order, after a cursor.")
record JobEventPage(
        @Schema(description = "The events, oldest first.", requiredMode = RequiredMode.REQUIRED)
        List<Event> data,
        @Schema(description = "The cursor for the next call: the last event's id, or the 'after' given when "
                + "there was none.", example = "42", requiredMode = RequiredMode.REQUIRED) long nextAfter) {

    static JobEventPage of(List<JobEvent> events, long after) {
        long next = events.isEmpty() ? after : events.get(events.size() - 1).id();
        return new JobEventPage(events.stream().map(Event::of).toList(), next);
    }

    @Schema(name = "JobEvent", description = "One entry of a job's log: a status change, a training step, an "
            + "epoch's end, or a note.")
    record Event(
            @Schema(description = "Increasing across the whole service; resume with after=<id>.", example = "42",
                    requiredMode = RequiredMode.REQUIRED) long id,
            @Schema(description = "STATE (message names the new status), STEP (step, epoch, batch loss), EPOCH "
                    + "(the epoch's mean loss) or NOTE.", example = "STEP", requiredMode = RequiredMode.REQUIRED)
            JobEventType type,
            @Schema(description = "When it happened (UTC).", example = "2025-01-31T12:00:02.25Z",
                    requiredMode = RequiredMode.REQUIRED) Instant at,
            @Schema(description = "The step, for STEP and EPOCH events.", example = "17") Long step,
            @Schema(description = "The epoch, for STEP and EPOCH events.", example = "2") Integer epoch,
            @Schema(description = "The loss, for STEP and EPOCH events.", example = "0.0456") Double loss,
            @Schema(description = "Text, for STATE and NOTE events.", example = "RUNNING") String message) {

        static Event of(JobEvent e) {
            return new Event(e.id(), e.type(), e.at(), e.step(), e.epoch(), Numbers.finite(e.loss()), e.message());
        }
    }
}
