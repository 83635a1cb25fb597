package io.qalora.job;

import io.qalora.InvalidParameterException;

/** Page sizes of listings. */
final class Paging {

    static final int DEFAULT_LIMIT = 20;
    static final int MAX_LIMIT = 100;

    private Paging() {
    }

    static int limit(int requested) {
        InvalidParameterException.require(requested >= 1 && requested <= MAX_LIMIT, "limit",
                "must be 1.." + MAX_LIMIT + ", was " + requested);
        return requested;
    }
}
