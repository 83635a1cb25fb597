package io.qalora.api;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;

/**
 * Integer request fields that take only JSON integers. Jackson's default would truncate
 * {@code "rank": 2.7} to 2 and read {@code "8"} as 8; a rank, a bit width or a class label that
 * silently differs from what the client wrote is worse than a 400 naming the field.
 */
final class StrictIntegers {

    private StrictIntegers() {
    }

    static final class Int extends ValueDeserializer<Integer> {
        @Override
        public Integer deserialize(JsonParser p, DeserializationContext ctxt) {
            return p.currentToken() == JsonToken.VALUE_NUMBER_INT ? p.getIntValue()
                    : (Integer) ctxt.handleUnexpectedToken(Integer.class, p);
        }
    }

    static final class Long extends ValueDeserializer<java.lang.Long> {
        @Override
        public java.lang.Long deserialize(JsonParser p, DeserializationContext ctxt) {
            return p.currentToken() == JsonToken.VALUE_NUMBER_INT ? p.getLongValue()
                    : (java.lang.Long) ctxt.handleUnexpectedToken(java.lang.Long.class, p);
        }
    }

    static final class LongArray extends ValueDeserializer<long[]> {
        @Override
        public long[] deserialize(JsonParser p, DeserializationContext ctxt) {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                return (long[]) ctxt.handleUnexpectedToken(long[].class, p);
            }
            long[] values = new long[16];
            int n = 0;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                if (t != JsonToken.VALUE_NUMBER_INT) {
                    try {
                        return (long[]) ctxt.handleUnexpectedToken(java.lang.Long.class, p);
                    } catch (JacksonException e) {
                        throw e.prependPath(values, n);
                    }
                }
                if (n == values.length) {
                    values = java.util.Arrays.copyOf(values, Math.multiplyExact(n, 2));
                }
                values[n++] = p.getLongValue();
            }
            return java.util.Arrays.copyOf(values, n);
        }
    }
}
