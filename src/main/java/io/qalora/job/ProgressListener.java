package io.qalora.job;

import io.qalora.lora.TrainingListener;
import java.time.Duration;

/**
 * Feeds a running job's progress, events and metrics from the trainer, and carries its stop
 * signals. The loss curve keeps at most about {@value #MAX_STEP_EVENTS} step and as many epoch
 * events per run: every one of a short run, every n-th (and the last) of a long one.
 */
final class ProgressListener implements TrainingListener {

    static final long MAX_STEP_EVENTS = 1000;

    private final RunningJob running;
    private final JobRunner.EventLog events;
    private final JobMetrics metrics;

    ProgressListener(RunningJob running, JobRunner.EventLog events, JobMetrics metrics) {
        this.running = running;
        this.events = events;
        this.metrics = metrics;
    }

    @Override
    public void onStep(StepEvent e) {
        running.progress = new Progress(e.step(), e.totalSteps(), e.epoch());
        metrics.trainingStep(Duration.ofNanos((long) (e.stepSeconds() * 1e9)), e.samples());
        long stride = Math.max(1, (e.totalSteps() + MAX_STEP_EVENTS - 1) / MAX_STEP_EVENTS);
        if (e.step() % stride == 0 || e.step() == e.totalSteps()) {
            events.add(JobEventType.STEP, e.step(), e.epoch(), e.loss(), null);
        }
    }

    @Override
    public void onEpoch(EpochEvent e) {
        running.trainLoss = e.meanLoss();
        int stride = (int) Math.max(1, (e.epochs() + MAX_STEP_EVENTS - 1) / MAX_STEP_EVENTS);
        if (e.epoch() % stride == 0 || e.epoch() == e.epochs()) {
            events.add(JobEventType.EPOCH, e.step(), e.epoch(), e.meanLoss(), null);
        }
    }

    @Override
    public void onNote(String note) {
        events.note(note);
    }

    @Override
    public boolean cancelled() {
        return running.shouldStop();
    }

    /** For side runs (the PTQ baseline): only the stop signals. */
    record CancelOnly(RunningJob running) implements TrainingListener {
        @Override
        public boolean cancelled() {
            return running.shouldStop();
        }
    }
}
