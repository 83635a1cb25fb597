package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** One rejecting test per format rule; each checks the type, the rule and the named tensor. */
class SafetensorsValidationTests {

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin
                + "," + end + "]}";
    }

    private static String header(String... entries) {
        return "{" + String.join(",", entries) + "}";
    }

    /** Asserts that reading {@code bytes} fails with {@code rule}, naming {@code tensor} (null: header-level). */
    private static AbstractThrowableAssert<?, ?> rejects(byte[] bytes, SafetensorsRule rule, String tensor) {
        return assertRejected(() -> SafetensorsReader.read(bytes), rule, tensor);
    }

    private static AbstractThrowableAssert<?, ?> assertRejected(ThrowingCallable call, SafetensorsRule rule,
            String tensor) {
        AbstractThrowableAssert<?, ?> a = assertThatThrownBy(call)
                .isInstanceOfSatisfying(SafetensorsException.class, e -> {
                    assertThat(e.rule()).isEqualTo(rule);
                    assertThat(e.tensorName()).isEqualTo(tensor);
                })
                .hasMessageEndingWith("(rule " + rule + ")");
        if (tensor != null) {
            a.hasMessageStartingWith("tensor '" + tensor + "': ");
        }
        return a;
    }

    @Test
    void rejectsAHeaderLengthAboveTheCapBeforeReadingTheHeader() {
        rejects(RawFile.prefix(100_000_001L), SafetensorsRule.HEADER_TOO_LARGE, null)
                .hasMessageContaining("100000001");
        rejects(RawFile.prefix(-1L), SafetensorsRule.HEADER_TOO_LARGE, null)
                .hasMessageContaining("18446744073709551615");
    }

    @Test
    void rejectsAZeroHeaderLength() {
        rejects(RawFile.prefix(0), SafetensorsRule.HEADER_EMPTY, null);
    }

    @Test
    void rejectsAFileShorterThanTheLengthPrefix() {
        rejects(new byte[] {8, 0, 0}, SafetensorsRule.TRUNCATED, null).hasMessageContaining("3 of the 8");
    }

    @Test
    void rejectsAHeaderCutShort() {
        byte[] full = RawFile.of("{}", 0);
        rejects(Arrays.copyOf(full, full.length - 1), SafetensorsRule.TRUNCATED, null)
                .hasMessageContaining("1 of the 2 header bytes");
    }

    @Test
    void rejectsAHeaderThatIsNotUtf8() {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        rejects(RawFile.of(header, 0), SafetensorsRule.HEADER_NOT_UTF8, null);
    }

    @Test
    void rejectsAHeaderThatIsNotAnObject() {
        rejects(RawFile.of("[1,2]", 0), SafetensorsRule.HEADER_NOT_OBJECT, null);
        rejects(RawFile.of(" {}", 0), SafetensorsRule.HEADER_NOT_OBJECT, null);
    }

    @Test
    void rejectsAHeaderThatIsNotJson() {
        rejects(RawFile.of("{\"a\": ", 0), SafetensorsRule.HEADER_NOT_JSON, null);
        rejects(RawFile.of("{'a': 1}", 0), SafetensorsRule.HEADER_NOT_JSON, null);
    }

    @Test
    void rejectsContentAfterTheHeaderObject() {
        rejects(RawFile.of("{}{}", 0), SafetensorsRule.HEADER_NOT_JSON, null).hasMessageContaining("after");
    }

    @Test
    void acceptsTrailingSpacesInTheHeader() {
        assertThat(SafetensorsReader.read(RawFile.of("{}  \n ", 0)).tensors()).isEmpty();
    }

    @Test
    void rejectsAnUnknownDtype() {
        rejects(RawFile.of(header(entry("w", "F8_E4M3", "[1]", 0, 1)), 1), SafetensorsRule.UNKNOWN_DTYPE, "w")
                .hasMessageContaining("'F8_E4M3'");
    }

    @Test
    void rejectsANegativeDimension() {
        rejects(RawFile.of(header(entry("w", "F32", "[2,-3]", 0, 0)), 0), SafetensorsRule.NEGATIVE_DIM, "w")
                .hasMessageContaining("-3");
    }

    @Test
    void rejectsADimensionBeyondJavaInt() {
        rejects(RawFile.of(header(entry("w", "U8", "[2147483648]", 0, 2147483648L)), 0),
                SafetensorsRule.DIM_TOO_LARGE, "w");
    }

    @Test
    void rejectsAShapeWhoseByteSizeOverflows() {
        rejects(RawFile.of(header(entry("w", "F64", "[2147483647,2147483647,8]", 0, 8)), 8),
                SafetensorsRule.SIZE_OVERFLOW, "w")
                .hasMessageContaining("[2147483647,2147483647,8]");
        rejects(RawFile.of(header(entry("w", "F64", "[2147483647,2147483647,2]", 0, 8)), 8),
                SafetensorsRule.SIZE_OVERFLOW, "w");
    }

    @Test
    void rejectsADataBufferWhoseFileLengthOverflows() {
        // 7*7*73*127*337*92737*649657 = 2^63 - 1 bytes: valid on its own, but 8 + N + that overflows.
        String shape = "[7,7,73,127,337,92737,649657]";
        rejects(RawFile.of(header(entry("w", "U8", shape, 0, Long.MAX_VALUE)), 0), SafetensorsRule.SIZE_OVERFLOW,
                null);
    }

    @Test
    void rejectsOffsetsThatDoNotSpanTheTensor() {
        rejects(RawFile.of(header(entry("weight", "F32", "[2,3]", 0, 12)), 12), SafetensorsRule.LENGTH_MISMATCH,
                "weight")
                .hasMessage("tensor 'weight': data_offsets [0, 12] span 12 bytes but shape [2,3] of F32 needs 24"
                        + " (rule LENGTH_MISMATCH)");
    }

    @Test
    void rejectsOffsetsWithAGap() {
        String json = header(entry("a", "U8", "[4]", 0, 4), entry("b", "U8", "[4]", 6, 10));
        rejects(RawFile.of(json, 10), SafetensorsRule.OFFSETS_NOT_CONTIGUOUS, "b")
                .hasMessageContaining("gap of 2 bytes after tensor 'a'");
    }

    @Test
    void rejectsOverlappingOffsets() {
        String json = header(entry("b", "U8", "[4]", 2, 6), entry("a", "U8", "[4]", 0, 4));
        rejects(RawFile.of(json, 6), SafetensorsRule.OFFSETS_NOT_CONTIGUOUS, "b")
                .hasMessageContaining("overlap tensor 'a'");
    }

    @Test
    void rejectsOffsetsNotStartingAtZero() {
        rejects(RawFile.of(header(entry("a", "U8", "[4]", 4, 8)), 8), SafetensorsRule.OFFSETS_NOT_CONTIGUOUS, "a")
                .hasMessageContaining("offset 0");
    }

    @Test
    void rejectsOffsetsThatEndBeforeTheyBeginOrAreNotAPair() {
        rejects(RawFile.of(header(entry("a", "U8", "[0]", 4, 0)), 0), SafetensorsRule.INVALID_OFFSETS, "a");
        rejects(RawFile.of("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1),
                SafetensorsRule.INVALID_OFFSETS, "a");
        rejects(RawFile.of("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1),
                SafetensorsRule.INVALID_OFFSETS, "a");
    }

    @Test
    void rejectsTruncatedDataNamingTheCutTensor() {
        byte[] full = SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("a", new int[] {2}, new float[] {1, 2}),
                Tensor.f32("b", new int[] {2}, new float[] {3, 4})));
        byte[] cut = Arrays.copyOf(full, full.length - 3);

        rejects(cut, SafetensorsRule.TRUNCATED, "b").hasMessageContaining("13 of 16");
        assertRejected(() -> SafetensorsReader.read(new ByteArrayInputStream(cut)), SafetensorsRule.TRUNCATED, "b");
        assertRejected(() -> SafetensorsReader.validate(new ByteArrayInputStream(cut)), SafetensorsRule.TRUNCATED,
                "b");
    }

    @Test
    void rejectsTrailingBytesAfterTheData() {
        byte[] full = SafetensorsWriter.toBytes(Map.of(), List.of(Tensor.u8("a", new int[] {1}, new byte[] {7})));
        byte[] longer = Arrays.copyOf(full, full.length + 1);

        rejects(longer, SafetensorsRule.FILE_LENGTH_MISMATCH, null);
        assertRejected(() -> SafetensorsReader.read(new ByteArrayInputStream(longer)),
                SafetensorsRule.FILE_LENGTH_MISMATCH, null);
        assertRejected(() -> SafetensorsReader.validate(new ByteArrayInputStream(longer)),
                SafetensorsRule.FILE_LENGTH_MISMATCH, null);
    }

    @Test
    void rejectsDuplicateTensorNames() {
        String json = header(entry("w", "U8", "[1]", 0, 1), entry("w", "U8", "[1]", 1, 2));
        rejects(RawFile.of(json, 2), SafetensorsRule.DUPLICATE_NAME, "w");
    }

    @Test
    void rejectsNonStringMetadataValues() {
        rejects(RawFile.of("{\"__metadata__\":{\"epochs\":3}}", 0), SafetensorsRule.BAD_METADATA, null)
                .hasMessageContaining("'epochs'");
        rejects(RawFile.of("{\"__metadata__\":{\"nested\":{\"a\":\"b\"}}}", 0), SafetensorsRule.BAD_METADATA, null)
                .hasMessageContaining("'nested'");
    }

    @Test
    void rejectsMetadataThatIsNotAnObject() {
        rejects(RawFile.of("{\"__metadata__\":[\"a\"]}", 0), SafetensorsRule.BAD_METADATA, null);
    }

    @Test
    void rejectsAnEntryWithAMissingField() {
        rejects(RawFile.of("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), SafetensorsRule.BAD_ENTRY, "w")
                .hasMessageContaining("missing field 'data_offsets'");
    }

    @Test
    void rejectsAnEntryWithAnExtraField() {
        rejects(RawFile.of("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1),
                SafetensorsRule.BAD_ENTRY, "w")
                .hasMessageContaining("unexpected field 'x'");
    }

    @Test
    void rejectsAnEntryWithARepeatedField() {
        rejects(RawFile.of("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                SafetensorsRule.BAD_ENTRY, "w");
    }

    @Test
    void rejectsAnEntryThatIsNotAnObjectOrHasMistypedFields() {
        rejects(RawFile.of("{\"w\":[1]}", 0), SafetensorsRule.BAD_ENTRY, "w");
        rejects(RawFile.of("{\"w\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1),
                SafetensorsRule.BAD_ENTRY, "w");
        rejects(RawFile.of("{\"w\":{\"dtype\":8,\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                SafetensorsRule.BAD_ENTRY, "w");
    }

    @Test
    void rejectsATensorTooLargeForAJavaArrayBeforeAllocatingIt() {
        byte[] bytes = RawFile.of(header(entry("big", "U8", "[60000,60000]", 0, 3_600_000_000L)), 0);

        assertRejected(() -> SafetensorsReader.read(new ByteArrayInputStream(bytes)),
                SafetensorsRule.TENSOR_TOO_LARGE, "big");
    }

    @Test
    void rejectsAMissingTensorWhenRequired() {
        SafetensorsFile file = SafetensorsReader.read(RawFile.of("{}", 0));

        assertRejected(() -> file.require("weight"), SafetensorsRule.MISSING_TENSOR, "weight");
    }

    @Test
    void writerRejectsDuplicateNames() {
        Tensor a = Tensor.u8("w", new int[] {1}, new byte[] {1});
        assertRejected(() -> SafetensorsWriter.toBytes(Map.of(), List.of(a, a)), SafetensorsRule.DUPLICATE_NAME, "w");
    }

    @Test
    void writerRejectsTheReservedMetadataName() {
        Tensor t = Tensor.u8("__metadata__", new int[] {1}, new byte[] {1});
        assertRejected(() -> SafetensorsWriter.toBytes(Map.of(), List.of(t)), SafetensorsRule.RESERVED_NAME,
                "__metadata__");
    }

    @Test
    void streamingParseReadsOnlyThePrefixAndHeader() throws IOException {
        byte[] bytes = RawFile.of("{\"__metadata__\":{\"a\":\"b\"}}".getBytes(StandardCharsets.UTF_8), 0);
        ByteArrayInputStream in = new ByteArrayInputStream(Arrays.copyOf(bytes, bytes.length + 5));

        SafetensorsHeader.parse(in);

        assertThat(in.available()).isEqualTo(5);
    }
}
