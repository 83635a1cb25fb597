/**
 * Jobs and the artifacts they train on, as the service sees them: layers and datasets stored as
 * blobs, jobs with their states and events (training jobs, and merges of an uploaded adapter,
 * which run in the request when small), the queue that the job table is, the worker pool that
 * claims and runs jobs with the engine, and the results. Storage is behind the ports
 * ({@link io.qalora.job.JobRepository}, {@link io.qalora.job.ArtifactRepository},
 * {@link io.qalora.job.BlobStore}) that {@code io.qalora.store} implements; HTTP is not known here.
 */
package io.qalora.job;
