package io.qalora.job;

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
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors upload in one pass: the header is parsed (and so validated) before a byte is
 * stored, then {@link #body()} replays the whole file for the blob store, checks that its length is
 * exactly what the header promises, and keeps copies of a few small tensors the caller asked for
 * (labels, to count classes) as they stream past.
 */
final class SafetensorsUpload {

    private final SafetensorsHeader header;
    private final InputStream body;
    private final Map<String, byte[]> captured = new HashMap<>();

    private SafetensorsUpload(SafetensorsHeader header, byte[] prefix, InputStream rest, Set<String> capture) {
        this.header = header;
        Map<String, TensorInfo> ranges = new HashMap<>();
        for (TensorInfo t : header.tensors()) {
            if (capture.contains(t.name())) {
                ranges.put(t.name(), t);
            }
        }
        this.body = new CheckedBody(new SequenceInputStream(new ByteArrayInputStream(prefix), rest), prefix.length, ranges);
    }

    /** Reads and validates the header from {@code in}; nothing else is read yet. */
    static SafetensorsUpload begin(InputStream in, Set<String> capture) {
        Recording recording = new Recording(in);
        try {
            SafetensorsHeader header = SafetensorsHeader.parse(recording);
            return new SafetensorsUpload(header, recording.recorded(), in, capture);
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

    /** Counts the bytes, copies the captured ranges, and checks the length at the end. */
    private final class CheckedBody extends FilterInputStream {
        private final long dataStart;
        private final Map<String, TensorInfo> ranges;
        private final Map<String, ByteArrayOutputStream> copies = new HashMap<>();
        private long position;

        CheckedBody(InputStream in, long dataStart, Map<String, TensorInfo> ranges) {
            super(in);
            this.dataStart = dataStart;
            this.ranges = ranges;
            ranges.keySet().forEach(k -> copies.put(k, new ByteArrayOutputStream()));
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
            for (Map.Entry<String, TensorInfo> e : ranges.entrySet()) {
                long begin = dataStart + e.getValue().begin();
                long end = dataStart + e.getValue().end();
                long from = Math.max(begin, position);
                long to = Math.min(end, position + n);
                if (from < to) {
                    copies.get(e.getKey()).write(buf, off + (int) (from - position), (int) (to - from));
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
            copies.forEach((k, v) -> captured.put(k, v.toByteArray()));
        }
    }
}
