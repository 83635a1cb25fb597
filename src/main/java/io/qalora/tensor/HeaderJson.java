package io.qalora.tensor;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Reads and writes the header JSON with the streaming API rather than a tree, so that duplicate
 * keys, number kinds and unexpected fields are seen (a tree silently keeps the last duplicate).
 */
final class HeaderJson {

    private static final JsonFactory JSON = new JsonFactory();
    private static final BigInteger MAX_INT = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger MAX_LONG = BigInteger.valueOf(Long.MAX_VALUE);

    private HeaderJson() {
    }

    static SafetensorsHeader parse(String json, long headerLength) {
        // The reference rejects anything not starting with '{', including leading whitespace.
        if (!json.startsWith("{")) {
            throw new SafetensorsException(SafetensorsRule.HEADER_NOT_OBJECT, null,
                    "the header must be a JSON object starting with '{'");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), json)) {
            p.nextToken();
            String key;
            while ((key = p.nextName()) != null) {
                if (!keys.add(key)) {
                    throw new SafetensorsException(SafetensorsRule.DUPLICATE_NAME, key,
                            "the name appears more than once in the header");
                }
                p.nextToken();
                if (TensorInfo.METADATA_KEY.equals(key)) {
                    readMetadata(p, metadata);
                } else {
                    tensors.add(readEntry(p, key));
                }
            }
            if (p.nextToken() != null) {
                throw new SafetensorsException(SafetensorsRule.HEADER_NOT_JSON, null,
                        "the header has content after the closing '}'");
            }
        } catch (JacksonException e) {
            throw new SafetensorsException(SafetensorsRule.HEADER_NOT_JSON, null,
                    "the header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        return new SafetensorsHeader(tensors, metadata, headerLength);
    }

    private static void readMetadata(JsonParser p, Map<String, String> metadata) {
        // The reference models metadata as Option<HashMap<String, String>>, so null means absent.
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new SafetensorsException(SafetensorsRule.BAD_METADATA, null,
                    "__metadata__ must be an object of string values, not " + describe(p.currentToken()));
        }
        String key;
        while ((key = p.nextName()) != null) {
            JsonToken value = p.nextToken();
            if (value != JsonToken.VALUE_STRING) {
                throw new SafetensorsException(SafetensorsRule.BAD_METADATA, null,
                        "__metadata__ value for key '" + key + "' must be a string, not " + describe(value));
            }
            if (metadata.putIfAbsent(key, p.getString()) != null) {
                throw new SafetensorsException(SafetensorsRule.BAD_METADATA, null,
                        "__metadata__ key '" + key + "' appears more than once");
            }
        }
    }

    private static TensorInfo readEntry(JsonParser p, String name) {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw badEntry(name, "the entry must be an object, not " + describe(p.currentToken()));
        }
        DType dtype = null;
        int[] shape = null;
        long[] offsets = null;
        String field;
        while ((field = p.nextName()) != null) {
            JsonToken value = p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (dtype != null) {
                        throw badEntry(name, "field 'dtype' appears more than once");
                    }
                    if (value != JsonToken.VALUE_STRING) {
                        throw badEntry(name, "field 'dtype' must be a string, not " + describe(value));
                    }
                    dtype = DType.parse(p.getString(), name);
                }
                case "shape" -> {
                    if (shape != null) {
                        throw badEntry(name, "field 'shape' appears more than once");
                    }
                    shape = readShape(p, name);
                }
                case "data_offsets" -> {
                    if (offsets != null) {
                        throw badEntry(name, "field 'data_offsets' appears more than once");
                    }
                    offsets = readOffsets(p, name);
                }
                default -> throw badEntry(name, "unexpected field '" + field
                        + "'; an entry has exactly dtype, shape and data_offsets");
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            String missing = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw badEntry(name, "missing field '" + missing + "'");
        }
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static int[] readShape(JsonParser p, String name) {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw badEntry(name, "field 'shape' must be an array of integers, not " + describe(p.currentToken()));
        }
        List<Integer> dims = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw badEntry(name, "field 'shape' must contain only integers, not " + describe(t));
            }
            BigInteger d = p.getBigIntegerValue();
            if (d.signum() < 0) {
                throw new SafetensorsException(SafetensorsRule.NEGATIVE_DIM, name,
                        "shape has negative dimension " + d);
            }
            if (d.compareTo(MAX_INT) > 0) {
                throw new SafetensorsException(SafetensorsRule.DIM_TOO_LARGE, name,
                        "shape dimension " + d + " exceeds " + Integer.MAX_VALUE);
            }
            dims.add(d.intValue());
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long[] readOffsets(JsonParser p, String name) {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw invalidOffsets(name, "data_offsets must be an array [begin, end], not " + describe(p.currentToken()));
        }
        List<Long> values = new ArrayList<>(2);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw invalidOffsets(name, "data_offsets must contain only integers, not " + describe(t));
            }
            BigInteger v = p.getBigIntegerValue();
            if (v.signum() < 0 || v.compareTo(MAX_LONG) > 0) {
                throw invalidOffsets(name, "data_offsets value " + v + " is not between 0 and " + Long.MAX_VALUE);
            }
            values.add(v.longValue());
        }
        if (values.size() != 2) {
            throw invalidOffsets(name, "data_offsets " + values + " must have exactly two values [begin, end]");
        }
        return new long[] {values.get(0), values.get(1)};
    }

    /** Compact header JSON with data_offsets contiguous in list order, space-padded so 8 + N is a multiple of 8. */
    static byte[] write(Map<String, String> metadata, List<Tensor> tensors) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(ObjectWriteContext.empty(), bytes)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeName(TensorInfo.METADATA_KEY);
                g.writeStartObject();
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    g.writeName(e.getKey());
                    g.writeString(e.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (Tensor t : tensors) {
                g.writeName(t.name());
                g.writeStartObject();
                g.writeName("dtype");
                g.writeString(t.dtype().headerName());
                g.writeName("shape");
                g.writeStartArray();
                for (int d : t.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeName("data_offsets");
                g.writeStartArray();
                g.writeNumber(offset);
                offset += t.data().length;
                g.writeNumber(offset);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
        }
        int padding = (8 - bytes.size() % 8) % 8;
        for (int i = 0; i < padding; i++) {
            bytes.write(' ');
        }
        return bytes.toByteArray();
    }

    private static SafetensorsException badEntry(String name, String detail) {
        return new SafetensorsException(SafetensorsRule.BAD_ENTRY, name, detail);
    }

    private static SafetensorsException invalidOffsets(String name, String detail) {
        return new SafetensorsException(SafetensorsRule.INVALID_OFFSETS, name, detail);
    }

    private static String describe(JsonToken t) {
        if (t == null) {
            return "end of input";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }
}
