/**
 * The JDBC implementations of the storage ports of {@code io.qalora.job}: blobs in fixed-size
 * chunks, the layer and dataset catalogue, and the job table that is also the work queue, on one
 * schema ({@code db/migration}) that runs unchanged on H2 and PostgreSQL. Everything here is
 * package-private but the three adapters; nothing outside this package knows SQL, and nothing here
 * knows HTTP or the engine beyond the records it stores as JSON.
 */
package io.qalora.store;
