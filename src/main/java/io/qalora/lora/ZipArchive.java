package io.qalora.lora;

import io.qalora.InvalidParameterException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** The zip files of the exports: written with fixed timestamps, so equal contents give equal bytes. */
final class ZipArchive {

    private static final LocalDateTime EPOCH = LocalDateTime.of(1980, 1, 1, 0, 0);

    private ZipArchive() {
    }

    /** A zip with one deflated entry per map entry, in map order. */
    static byte[] write(Map<String, byte[]> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setTimeLocal(EPOCH);
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The file entries of {@code zip} by name, directories skipped.
     *
     * @throws InvalidParameterException naming {@code parameter} when the bytes are not a zip, a
     *     name repeats, or the entries unpack to more than {@code maxBytes} in all
     */
    static Map<String, byte[]> read(byte[] zip, String parameter, long maxBytes) {
        InvalidParameterException.require(zip != null, parameter, "must not be null");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        long total = 0;
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                if (entry.isDirectory()) {
                    continue;
                }
                byte[] content = readCapped(in, maxBytes - total, parameter);
                total += content.length;
                if (entries.put(entry.getName(), content) != null) {
                    throw new InvalidParameterException(parameter, "the zip holds '" + entry.getName() + "' twice");
                }
            }
        } catch (ZipException e) {
            throw new InvalidParameterException(parameter, "is not a readable zip: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        InvalidParameterException.require(!entries.isEmpty(), parameter, "is not a zip with files in it");
        return entries;
    }

    private static byte[] readCapped(InputStream in, long remaining, String parameter) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = in.read(buffer)) > 0) {
            if (out.size() + (long) n > remaining) {
                throw new InvalidParameterException(parameter, "unpacks to more than the limit of its entries' total size");
            }
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    /** The last path segment of a zip entry name. */
    static String fileName(String entryName) {
        return entryName.substring(entryName.lastIndexOf('/') + 1);
    }
}
