package io.qalora.job;

/**
 * Why a job failed or stopped: a stable code for programs and a sentence for people.
 * Codes: TRAINING_DIVERGED, INVALID_INPUT, CORRUPT_DATA, CANCELLED, LEASE_EXPIRED, INTERNAL.
 */
public record JobError(String code, String message) {
}
