package io.qalora.job;

import io.qalora.tensor.FiniteValues;
import io.qalora.tensor.SafetensorsException;
import io.qalora.tensor.SafetensorsHeader;
import io.qalora.tensor.SafetensorsRule;
import io.qalora.tensor.TensorInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors upload in one pass: the header is parsed (and so validated) before a byte is
 * stored, then {@link #body()} replays the whole file for the blob store, checks that its length is
 * exactly what the header promises, checks that the floating tensors the caller names hold only
 * finite values, and keeps copies of a few small tensors the caller asked for (labels, to count
 * classes) as they stream past.
 */
final class SafetensorsUpload {

    private final SafetensorsHeader header;
    private final InputStream body;
    private final Map<String, byte[]> captured = new HashMap<>();

    private SafetensorsUpload(SafetensorsHeader header, byte[] prefix, InputStream rest, Set<String> capture,
            Set<String> finite) {
        this.header = header;
        List<Range> ranges = new ArrayList<>();
        for (TensorInfo t : header.tensors()) {
            if (capture.contains(t.name())) {
                ByteArrayOutputStream copy = new ByteArrayOutputStream();
                ranges.add(new Range(t, copy::write, () -> captured.put(t.name(), copy.toByteArray())));
            }
            if (finite.contains(t.name()) && t.dtype().isFloating()) {
                ranges.add(new Range(t, new FiniteValues(t)::check, () -> { }));
            }
        }
        this.body = new CheckedBody(new SequenceInputStream(new ByteArrayInputStream(prefix), rest), prefix.length, ranges);
    }

    /**
     * Reads and validates the header from {@code in}; nothing else is read yet.
     *
     * @param capture tensors whose bytes {@link #captured} keeps
     * @param finite floating tensors that must hold no NaN or infinity (an integer one is not checked)
     */
    static SafetensorsUpload begin(InputStream in, Set<String> capture, Set<String> finite) {
        Recording recording = new Recording(in);
        try {
            SafetensorsHeader header = SafetensorsHeader.parse(recording);
            return new SafetensorsUpload(header, recording.recorded(), in, capture, finite);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    SafetensorsHeader header() {
        return header;
    }

    /** The whole file, to be read to its end exactly once. */
    InputStream body() {
        return body;
    }

    /** The bytes of a captured tensor, available once {@link #body()} was read to its end. */
    byte[] captured(String name) {
        return captured.get(name);
    }

    /** Keeps every byte read through it, for the header. */
    private static final class Recording extends FilterInputStream {
        private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

        Recording(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                copy.write(b);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                copy.write(buf, off, n);
            }
            return n;
        }

        byte[] recorded() {
            return copy.toByteArray();
        }
    }

    /** What is done with one tensor's bytes as they pass: each piece in order, then once at the end. */
    private record Range(TensorInfo tensor, Piece piece, Runnable end) {}

    @FunctionalInterface
    private interface Piece {
        void accept(byte[] bytes, int offset, int length);
    }

    /** Counts the bytes, hands each range its bytes, and checks the length at the end. */
    private final class CheckedBody extends FilterInputStream {
        private final long dataStart;
        private final List<Range> ranges;
        private long position;

        CheckedBody(InputStream in, long dataStart, List<Range> ranges) {
            super(in);
            this.dataStart = dataStart;
            this.ranges = ranges;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n < 0) {
                finish();
                return -1;
            }
            for (Range range : ranges) {
                long from = Math.max(dataStart + range.tensor().begin(), position);
                long to = Math.min(dataStart + range.tensor().end(), position + n);
                if (from < to) {
                    range.piece().accept(buf, off + (int) (from - position), (int) (to - from));
                }
            }
            position += n;
            if (position > header.fileLength()) {
                throw new SafetensorsException(SafetensorsRule.FILE_LENGTH_MISMATCH, null,
                        "the file continues past the " + header.fileLength() + " bytes its header describes");
            }
            return n;
        }

        private void finish() {
            if (position != header.fileLength()) {
                throw new SafetensorsException(SafetensorsRule.TRUNCATED, null,
                        "the file ends after " + position + " bytes, its header describes " + header.fileLength());
            }
            ranges.forEach(range -> range.end().run());
        }
    }
}
