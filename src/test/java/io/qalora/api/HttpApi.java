package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A small HTTP client for the API under test: real requests, answers with their JSON at hand. */
final class HttpApi {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient client = HttpClient.newHttpClient();
    private final String base;

    HttpApi(int port) {
        this.base = "http://localhost:" + port;
    }

    /** An answer: status, headers and body. */
    record Answer(int status, HttpHeaders headers, byte[] body) {

        JsonNode json() {
            return JSON.readTree(body);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        String contentType() {
            return header("Content-Type");
        }

        /** Asserts an RFC 9457 problem of this status and type, and returns its JSON. */
        JsonNode problem(int expectedStatus, String type) {
            assertThat(status).as("status of %s", text()).isEqualTo(expectedStatus);
            assertThat(contentType()).startsWith("application/problem+json");
            JsonNode p = json();
            assertThat(p.path("type").asString()).isEqualTo("https://qalora.io/problems/" + type);
            assertThat(p.path("status").asInt()).isEqualTo(expectedStatus);
            assertThat(p.path("title").asString()).isNotBlank();
            assertThat(p.path("detail").asString()).isNotBlank();
            assertThat(p.path("instance").asString()).startsWith("/");
            return p;
        }
    }

    Answer get(String path, String... headers) {
        return send(request(path, headers).GET());
    }

    Answer send(String method, String path) {
        return send(request(path).method(method, BodyPublishers.noBody()));
    }

    Answer delete(String path) {
        return send(request(path).DELETE());
    }

    Answer post(String path) {
        return send(request(path).POST(BodyPublishers.noBody()));
    }

    Answer postJson(String path, String json, String... headers) {
        return send(request(path, headers).header("Content-Type", "application/json")
                .POST(BodyPublishers.ofString(json)));
    }

    Answer postBytes(String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType).POST(BodyPublishers.ofByteArray(body)));
    }

    /** A raw safetensors POST without Content-Length (chunked), as a client streaming a file of unknown size. */
    Answer postStream(String path, byte[] body) {
        return postStream(path, "application/octet-stream", body);
    }

    /** A POST of {@code contentType} without Content-Length (chunked). */
    Answer postStream(String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType)
                .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))));
    }

    /** A multipart/form-data POST; byte[] values are sent as files, anything else as text fields. */
    Answer postMultipart(String path, Map<String, Object> parts) {
        String boundary = "----qalora-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Map.Entry<String, Object> part : parts.entrySet()) {
            StringBuilder head = new StringBuilder("--" + boundary + "\r\n")
                    .append("Content-Disposition: form-data; name=\"").append(part.getKey()).append('"');
            if (part.getValue() instanceof byte[]) {
                head.append("; filename=\"upload.safetensors\"\r\nContent-Type: application/octet-stream");
            }
            head.append("\r\n\r\n");
            body.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
            body.writeBytes(part.getValue() instanceof byte[] bytes ? bytes
                    : part.getValue().toString().getBytes(StandardCharsets.UTF_8));
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return postBytes(path, "multipart/form-data; boundary=" + boundary, body.toByteArray());
    }

    static Map<String, Object> parts(Object... nameValue) {
        Map<String, Object> parts = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            parts.put((String) nameValue[i], nameValue[i + 1]);
        }
        return parts;
    }

    /** How many items a listing holds in all, following its pages. */
    int count(String listPath) {
        int count = 0;
        String after = null;
        while (true) {
            String sep = listPath.contains("?") ? "&" : "?";
            Answer page = get(listPath + sep + "limit=100" + (after == null ? "" : "&after=" + after));
            assertThat(page.status()).isEqualTo(200);
            JsonNode data = page.json().get("data");
            count += data.size();
            if (!page.json().get("hasMore").asBoolean() || data.isEmpty()) {
                return count;
            }
            after = data.get(data.size() - 1).get("id").asString();
        }
    }

    private HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b;
    }

    private Answer send(HttpRequest.Builder request) {
        try {
            var response = client.send(request.build(), BodyHandlers.ofByteArray());
            return new Answer(response.statusCode(), response.headers(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
