package io.qalora.api;

import io.qalora.job.BlobRef;
import io.qalora.job.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.io.UncheckedIOException;
import org.springframework.core.io.AbstractResource;
import org.springframework.core.io.Resource;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.context.request.WebRequest;

/**
 * Stored files as downloads: streamed on the request thread a chunk at a time (never whole in
 * memory, and without the async request timeout that would cut a long download short), with their
 * length, an attachment file name, their SHA-256 as a strong ETag (so {@code If-None-Match} gets a
 * 304), and byte ranges (so a broken download can be resumed).
 *
 * <p>The blob is opened and its first chunk read before the answer starts, so a missing blob, or a
 * corrupt one of a single chunk, is still a problem response; for larger blobs the SHA-256 check at
 * the end can only abort a started download (the client then gets fewer bytes than the
 * Content-Length promised, and has the ETag to check them against).
 */
final class Downloads {

    private Downloads() {
    }

    static ResponseEntity<Resource> of(BlobStore blobs, BlobRef blob, String fileName, WebRequest request) {
        String etag = "\"" + blob.sha256() + "\"";
        if (request.checkNotModified(etag)) {
            return null;
        }
        return ResponseEntity.ok()
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .contentLength(blob.sizeBytes())
                .eTag(etag)
                .header(HttpHeaders.CONTENT_DISPOSITION,
                        ContentDisposition.attachment().filename(fileName).build().toString())
                .body(new BlobResource(blobs, blob));
    }

    /** A file name from the artifact's name: all but ASCII letters, digits, '.', '-' and '_' replaced. */
    static String fileName(String name, Object id, String suffix) {
        String safe = name == null ? "" : name.replaceAll("[^A-Za-z0-9._-]", "_");
        return (safe.isBlank() || safe.startsWith(".") ? id.toString() : safe) + suffix;
    }

    /** A blob as a resource of known length that can be opened again for each byte range. */
    private static final class BlobResource extends AbstractResource {

        private final BlobStore blobs;
        private final BlobRef blob;
        private InputStream opened;

        BlobResource(BlobStore blobs, BlobRef blob) {
            this.blobs = blobs;
            this.blob = blob;
            PushbackInputStream in = new PushbackInputStream(blobs.open(blob));
            try {
                int first = in.read();
                if (first >= 0) {
                    in.unread(first);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            this.opened = in;
        }

        @Override
        public synchronized InputStream getInputStream() {
            InputStream in = opened != null ? opened : blobs.open(blob);
            opened = null;
            return in;
        }

        @Override
        public long contentLength() {
            return blob.sizeBytes();
        }

        @Override
        public boolean exists() {
            return true;
        }

        @Override
        public String getDescription() {
            return "blob " + blob.id();
        }
    }
}
