package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTests {

    private static final List<Tensor> EVERY_DTYPE = List.of(
            Tensor.f64("f64", new int[] {2}, new double[] {Math.PI, -1e300}),
            Tensor.f32("f32", new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}),
            Tensor.f16("f16", new int[] {2}, new float[] {0.5f, -65504f}),
            new Tensor("bf16", DType.BF16, new int[] {2}, new byte[] {(byte) 0x80, 0x3F, (byte) 0xA0, (byte) 0xC0}),
            Tensor.i64("i64", new int[] {1}, new long[] {Long.MAX_VALUE}),
            Tensor.i32("i32", new int[] {3, 1}, new int[] {-1, 0, 1}),
            Tensor.i16("i16", new int[] {2}, new short[] {Short.MIN_VALUE, Short.MAX_VALUE}),
            Tensor.i8("i8", new int[] {1, 1, 2}, new byte[] {-3, 4}),
            Tensor.u8("u8", new int[0], new byte[] {(byte) 200}),
            new Tensor("bool", DType.BOOL, new int[] {3}, new byte[] {1, 0, 1}),
            Tensor.f32("empty", new int[] {0, 4}, new float[0]));

    @Test
    void roundTripsEveryDtypeWithMetadata() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("note", "ünïcödé \"quoted\"");

        byte[] bytes = SafetensorsWriter.toBytes(metadata, EVERY_DTYPE);
        SafetensorsFile file = SafetensorsReader.read(bytes);

        assertThat(file.metadata()).containsExactlyEntriesOf(metadata);
        assertThat(file.tensors().values()).containsExactlyElementsOf(EVERY_DTYPE);
        assertThat(file.require("bf16").toFloatArray()).containsExactly(1.0f, -5.0f);
        assertThat(file.find("nope")).isEmpty();
        assertThat(SafetensorsHeader.parse(new ByteArrayInputStream(bytes)).headerLength() % 8).isZero();
    }

    @Test
    void writesTheExactByteLayoutOfTheFormat() {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of("format", "pt"),
                List.of(Tensor.f32("a", new int[] {2}, new float[] {1.0f, -2.0f})));

        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertThat(json).hasSize(85);
        ByteBuffer expected = ByteBuffer.allocate(8 + 88 + 8).order(ByteOrder.LITTLE_ENDIAN);
        expected.put(new byte[] {88, 0, 0, 0, 0, 0, 0, 0});
        expected.put((json + "   ").getBytes(StandardCharsets.US_ASCII));
        expected.put(new byte[] {0x00, 0x00, (byte) 0x80, 0x3F, 0x00, 0x00, 0x00, (byte) 0xC0});
        assertThat(bytes).containsExactly(expected.array());
    }

    @Test
    void omitsEmptyMetadataAndPadsAnEmptyFileToEightBytes() {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of(), List.of());

        assertThat(bytes).containsExactly(RawFile.of("{}      ", 0));
        assertThat(SafetensorsReader.read(bytes).tensors()).isEmpty();
    }

    @Test
    void streamingWriteProducesTheSameBytesAsToBytes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsWriter.write(out, Map.of("k", "v"), EVERY_DTYPE);

        assertThat(out.toByteArray()).containsExactly(SafetensorsWriter.toBytes(Map.of("k", "v"), EVERY_DTYPE));
    }

    @Test
    void readsTensorsListedOutOfOffsetOrderInFileOrder() {
        String json = "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]},"
                + "\"a\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]},\"__metadata__\":null}";

        SafetensorsFile file = SafetensorsReader.read(RawFile.of(json, 3));

        assertThat(file.tensors().keySet()).containsExactly("a", "b");
        assertThat(file.metadata()).isEmpty();
    }

    @Test
    void parsesAHeaderWithoutConsumingTheData() throws IOException {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of(), EVERY_DTYPE);
        ByteArrayInputStream in = new ByteArrayInputStream(bytes);

        SafetensorsHeader header = SafetensorsHeader.parse(in);

        assertThat(header.fileLength()).isEqualTo(bytes.length);
        assertThat(in.available()).isEqualTo(header.dataLength());
        assertThat(header.tensors()).extracting(TensorInfo::name).first().isEqualTo("f64");
        assertThat(header.tensors().get(1)).isEqualTo(new TensorInfo("f32", DType.F32, new int[] {2, 3}, 16, 40));
    }

    @Test
    void validatesAStreamWhileSomeoneElseDigestsIt() throws Exception {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of("format", "pt"), EVERY_DTYPE);
        DigestInputStream in = new DigestInputStream(new ByteArrayInputStream(bytes),
                MessageDigest.getInstance("SHA-256"));

        SafetensorsHeader header = SafetensorsReader.validate(in);

        assertThat(header.fileLength()).isEqualTo(bytes.length);
        assertThat(in.getMessageDigest().digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void readsFromAPathAndAStream(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("model.safetensors");
        try (var out = Files.newOutputStream(path)) {
            SafetensorsWriter.write(out, Map.of(), EVERY_DTYPE);
        }

        assertThat(SafetensorsReader.read(path).tensors().values()).containsExactlyElementsOf(EVERY_DTYPE);
        try (var in = Files.newInputStream(path)) {
            assertThat(SafetensorsReader.read(in).tensors()).hasSize(EVERY_DTYPE.size());
        }
    }
}
