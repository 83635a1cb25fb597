package io.qalora.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ChunkWriterTests {

    @Test
    void writesTheFirstLengthBytesOfTheBufferInOneWrite() throws IOException {
        byte[] chunk = {1, 2, 3, 4, 5};
        CountingStream out = new CountingStream();
        ChunkWriter writer = new ChunkWriter(chunk, 3);
        writer.writeTo(() -> out);
        assertThat(writer.getLength()).isEqualTo(3);
        assertThat(out.toByteArray()).containsExactly(1, 2, 3);
        assertThat(out.writes).isEqualTo(1);
    }

    @Test
    void aLengthBeyondTheBufferIsRefused() {
        assertThatThrownBy(() -> new ChunkWriter(new byte[4], 5)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new ChunkWriter(new byte[4], -1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static final class CountingStream extends ByteArrayOutputStream {
        private int writes;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes++;
            super.write(b, off, len);
        }
    }
}
