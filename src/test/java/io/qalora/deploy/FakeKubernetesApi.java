package io.qalora.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.APIGroupBuilder;
import io.fabric8.kubernetes.api.model.APIGroupListBuilder;
import io.fabric8.kubernetes.api.model.APIResourceListBuilder;
import io.fabric8.kubernetes.api.model.APIVersionsBuilder;
import io.fabric8.kubernetes.api.model.GroupVersionForDiscovery;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.SecretListBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Just enough of a Kubernetes API server on the loopback for {@code helm install}: discovery (the
 * server version and the API groups, which become the chart's {@code .Capabilities}), 404 for every
 * object Helm looks up, and a record of every object Helm creates.
 *
 * <p>helm-java's {@code template} has neither {@code --kube-version} nor {@code --api-versions}, and its
 * embedded Helm is built without the version flags that the helm CLI gets, so it claims Kubernetes
 * 1.20. Installing against this server renders the chart exactly as a real 1.31 cluster would,
 * with or without the Prometheus Operator's {@code monitoring.coreos.com/v1}.
 */
final class FakeKubernetesApi implements AutoCloseable {

    static final String NAMESPACE = "qalora";
    static final String PROMETHEUS_OPERATOR = "monitoring.coreos.com/v1";

    /** Group version to the kinds it serves (plural resource name to kind). */
    private static final Map<String, Map<String, String>> BUILT_IN = Map.of(
            "v1", Map.of("configmaps", "ConfigMap", "secrets", "Secret", "services", "Service", "serviceaccounts",
                    "ServiceAccount", "persistentvolumeclaims", "PersistentVolumeClaim"),
            "apps/v1", Map.of("deployments", "Deployment"),
            "networking.k8s.io/v1", Map.of("ingresses", "Ingress", "networkpolicies", "NetworkPolicy"),
            "policy/v1", Map.of("poddisruptionbudgets", "PodDisruptionBudget"),
            "autoscaling/v2", Map.of("horizontalpodautoscalers", "HorizontalPodAutoscaler"));

    private final HttpServer server;
    private final Map<String, String> discovery = new HashMap<>();
    private final List<String> created = new ArrayList<>();

    FakeKubernetesApi(boolean prometheusOperator) throws IOException {
        Map<String, Map<String, String>> groups = new LinkedHashMap<>(BUILT_IN);
        if (prometheusOperator) {
            groups.put(PROMETHEUS_OPERATOR, Map.of("servicemonitors", "ServiceMonitor"));
        }
        discovery.put("/version", "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0\",\"platform\":\"linux/amd64\"}");
        discovery.put("/api", Serialization.asJson(new APIVersionsBuilder().withVersions("v1").build()));
        APIGroupListBuilder apis = new APIGroupListBuilder();
        groups.forEach((groupVersion, resources) -> {
            APIResourceListBuilder list = new APIResourceListBuilder().withGroupVersion(groupVersion);
            resources.forEach((plural, kind) -> list.addNewResource().withName(plural).withKind(kind).withNamespaced(true)
                    .withSingularName("").withVerbs("create", "delete", "get", "list", "patch", "update", "watch")
                    .endResource());
            discovery.put(groupVersion.equals("v1") ? "/api/v1" : "/apis/" + groupVersion, Serialization.asJson(list.build()));
            if (!groupVersion.equals("v1")) {
                GroupVersionForDiscovery version = new GroupVersionForDiscovery(groupVersion,
                        groupVersion.substring(groupVersion.indexOf('/') + 1));
                apis.addToGroups(new APIGroupBuilder().withName(groupVersion.substring(0, groupVersion.indexOf('/')))
                        .withVersions(version).withPreferredVersion(version).build());
            }
        });
        discovery.put("/apis", Serialization.asJson(apis.build()));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A kubeconfig that points Helm at this server. */
    String kubeconfig() {
        return """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: fake
                    cluster:
                      server: http://127.0.0.1:%d
                contexts:
                  - name: fake
                    context:
                      cluster: fake
                      user: fake
                      namespace: %s
                current-context: fake
                users:
                  - name: fake
                    user:
                      token: fake
                """.formatted(server.getAddress().getPort(), NAMESPACE);
    }

    /** The objects of the release, as Helm sent them (Helm's own release record left out). */
    synchronized List<HasMetadata> createdObjects() {
        return created.stream().<HasMetadata>map(Serialization::unmarshal)
                .filter(o -> !"helm".equals(o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get("owner")))
                .toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            byte[] request = exchange.getRequestBody().readAllBytes();
            String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
            if (Set.of("POST", "PUT").contains(method)) {
                // Echo the object back as created or updated. The release record comes as protobuf; the chart's objects as JSON.
                if (method.equals("POST") && contentType != null && contentType.startsWith("application/json")) {
                    synchronized (this) {
                        created.add(new String(request, StandardCharsets.UTF_8));
                    }
                }
                respond(exchange, method.equals("POST") ? 201 : 200, contentType, request);
            } else if (method.equals("GET") && discovery.containsKey(path)) {
                respond(exchange, 200, "application/json", discovery.get(path).getBytes(StandardCharsets.UTF_8));
            } else if (method.equals("GET") && path.endsWith("/secrets")) {
                // Helm's release history: none.
                respond(exchange, 200, "application/json",
                        Serialization.asJson(new SecretListBuilder().build()).getBytes(StandardCharsets.UTF_8));
            } else {
                respond(exchange, 404, "application/json", Serialization.asJson(new StatusBuilder().withStatus("Failure")
                        .withReason("NotFound").withCode(404).withMessage(path + " not found").build())
                        .getBytes(StandardCharsets.UTF_8));
            }
        } catch (RuntimeException e) {
            throw new UncheckedIOException(new IOException("fake API failed on " + exchange.getRequestURI(), e));
        }
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
