/**
 * The HTTP API ({@code /v1}): package-private controllers for layers, datasets, jobs, merges and
 * their results, the records they read and write as JSON, the one place that maps the exception tree to
 * RFC 9457 problem responses, and the OpenAPI description. Everything here delegates to the
 * services of {@code io.qalora.job}; no business rule, SQL or engine arithmetic lives here, and
 * nothing outside this package depends on it.
 */
package io.qalora.api;
