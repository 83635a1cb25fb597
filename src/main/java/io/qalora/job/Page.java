package io.qalora.job;

import java.util.List;

/** One page of a newest-first listing, and whether older items follow. */
public record Page<T>(List<T> data, boolean hasMore) {
}
