package io.qalora.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.qalora.job.QaLoraProperties;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Helm chart: lint, then {@code helm install} (helm-java, the real Helm engine in-process)
 * against {@link FakeKubernetesApi}, every created object read back as its fabric8 model type and
 * checked against what the application and the Dockerfile expect.
 */
class HelmChartTests {

    static final Path CHART = Path.of("helm", "qalora-service");
    static final Path PRODUCTION = CHART.resolve("values-production.yaml");
    static final Path APPLICATION_YAML = Path.of("src/main/resources/application.yaml");
    private static final String RELEASE = "demo";
    private static final String FULLNAME = RELEASE + "-qalora-service";

    private final Helm helm = new Helm(CHART);

    /** What an install created, and the NOTES it printed. */
    record Rendered(List<HasMetadata> objects, String output) {

        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> T one(Class<T> type) {
            List<T> found = all(type);
            assertThat(found).as(type.getSimpleName()).hasSize(1);
            return found.get(0);
        }

        ConfigMap configMap(String name) {
            return all(ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no ConfigMap " + name));
        }

        Container container() {
            return podSpec().getContainers().get(0);
        }

        PodSpec podSpec() {
            return one(Deployment.class).getSpec().getTemplate().getSpec();
        }

        List<String> kinds() {
            return objects.stream().map(HasMetadata::getKind).sorted().toList();
        }
    }

    private Rendered install(boolean prometheusOperator, Path valuesFile, Map<String, Object> values) throws IOException {
        try (FakeKubernetesApi api = new FakeKubernetesApi(prometheusOperator)) {
            InstallCommand install = helm.install().withName(RELEASE).withNamespace(FakeKubernetesApi.NAMESPACE)
                    .withKubeConfigContents(api.kubeconfig()).disableOpenApiValidation();
            if (valuesFile != null) {
                install.withValuesFile(valuesFile);
            }
            values.forEach(install::set);
            Release release = install.call();
            assertThat(release.getStatus()).isEqualTo("deployed");
            return new Rendered(api.createdObjects(), release.getOutput());
        }
    }

    private Rendered defaults() throws IOException {
        return install(false, null, Map.of());
    }

    private Rendered production() throws IOException {
        return install(true, PRODUCTION, Map.of());
    }

    @Test
    void chartPassesStrictLint() {
        LintResult lint = helm.lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void defaultValuesRunOneReplicaOnEmbeddedH2WithAVolumeClaim() throws IOException {
        Rendered rendered = defaults();

        assertThat(rendered.kinds()).containsExactly("ConfigMap", "ConfigMap", "Deployment", "NetworkPolicy",
                "PersistentVolumeClaim", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount");
        assertEveryObjectIsTyped(rendered);
        Deployment deployment = rendered.one(Deployment.class);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
        assertThat(deployment.getSpec().getStrategy().getType()).as("one H2 file, one pod").isEqualTo("Recreate");

        PersistentVolumeClaim claim = rendered.one(PersistentVolumeClaim.class);
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("10Gi"));
        assertThat(volume(rendered, "/data").getPersistentVolumeClaim().getClaimName()).isEqualTo(claim.getMetadata().getName());

        Secret secret = rendered.one(Secret.class);
        String imageDefault = Dockerfile.read().finalStage().env().get("SPRING_DATASOURCE_URL");
        assertThat(secret.getStringData()).containsEntry("SPRING_DATASOURCE_URL", imageDefault)
                .containsEntry("SPRING_DATASOURCE_USERNAME", "sa").containsEntry("SPRING_DATASOURCE_PASSWORD", "");
        assertThat(secretRef(rendered.container(), "SPRING_DATASOURCE_URL")).isEqualTo(secret.getMetadata().getName());

        ServiceAccount account = rendered.one(ServiceAccount.class);
        assertThat(account.getAutomountServiceAccountToken()).isFalse();
        assertThat(rendered.podSpec().getServiceAccountName()).isEqualTo(account.getMetadata().getName());
        assertThat(rendered.one(PodDisruptionBudget.class).getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
        assertThat(rendered.output()).contains("kubectl --namespace qalora port-forward service/" + FULLNAME + " 8080:8080",
                "/actuator/prometheus");
    }

    @Test
    void productionValuesRenderEveryObjectAsItsKubernetesType() throws IOException {
        Rendered rendered = production();

        assertThat(rendered.kinds()).containsExactly("ConfigMap", "ConfigMap", "Deployment", "HorizontalPodAutoscaler",
                "Ingress", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceMonitor");
        assertEveryObjectIsTyped(rendered);
        Deployment deployment = rendered.one(Deployment.class);
        assertThat(deployment.getSpec().getReplicas()).as("the autoscaler owns the count").isNull();
        assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        assertThat(rendered.container().getVolumeMounts()).extracting(VolumeMount::getMountPath).containsExactly("/tmp");
        assertThat(secretRef(rendered.container(), "SPRING_DATASOURCE_URL")).isEqualTo("qalora-db");
        assertThat(secretRef(rendered.container(), "SPRING_DATASOURCE_PASSWORD")).isEqualTo("qalora-db");

        HorizontalPodAutoscaler hpa = rendered.one(HorizontalPodAutoscaler.class);
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(3);
        assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(10);
        assertThat(hpa.getSpec().getMetrics().get(0).getResource().getName()).isEqualTo("cpu");
        assertThat(hpa.getSpec().getMetrics().get(0).getResource().getTarget().getAverageUtilization()).isEqualTo(70);

        Ingress ingress = rendered.one(Ingress.class);
        assertThat(ingress.getSpec().getRules().get(0).getHost()).isEqualTo("qalora.example.com");
        assertThat(ingress.getSpec().getRules().get(0).getHttp().getPaths().get(0).getBackend().getService().getName())
                .isEqualTo(rendered.one(Service.class).getMetadata().getName());
        assertThat(ingress.getSpec().getTls().get(0).getSecretName()).isEqualTo("qalora-tls");

        NetworkPolicy policy = rendered.one(NetworkPolicy.class);
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(policy.getSpec().getIngress().get(0).getPorts().get(0).getPort()).isEqualTo(new IntOrString("http"));
        assertThat(policy.getSpec().getEgress().stream().flatMap(r -> r.getPorts().stream()).map(p -> p.getPort()))
                .contains(new IntOrString(53), new IntOrString(5432));

        ServiceMonitor monitor = rendered.one(ServiceMonitor.class);
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
        assertThat(monitor.getSpec().getEndpoints().get(0).getPort()).isEqualTo("http");
        assertThat(monitor.getSpec().getEndpoints().get(0).getPath()).isEqualTo(actuatorBasePath() + "/prometheus");
        assertThat(monitor.getSpec().getSelector().getMatchLabels())
                .isEqualTo(rendered.one(Service.class).getSpec().getSelector());
        assertThat(rendered.output()).contains("https://qalora.example.com/v1/jobs");
    }

    @Test
    void serviceMonitorIsLeftOutWhereThePrometheusOperatorIsMissing() throws IOException {
        Rendered rendered = install(false, PRODUCTION, Map.of());

        assertThat(rendered.kinds()).doesNotContain("ServiceMonitor").contains("Ingress", "HorizontalPodAutoscaler");
        assertThat(rendered.output()).contains("does not serve " + FakeKubernetesApi.PROMETHEUS_OPERATOR);
    }

    @Test
    void probesUseTheApplicationsActuatorHealthGroupsOnItsServerPort() throws IOException {
        Map<String, Object> application = applicationYaml();
        assertThat(at(application, "management.endpoint.health.probes.enabled")).isEqualTo(true);
        assertThat(at(application, "management.server.port")).as("actuator shares the server port").isNull();
        int serverPort = at(application, "server.port") == null ? 8080 : (Integer) at(application, "server.port");
        String health = actuatorBasePath() + "/health";

        Rendered rendered = defaults();
        Container container = rendered.container();
        assertThat(container.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("http");
            assertThat(p.getContainerPort()).isEqualTo(serverPort);
        });
        assertThat(probe(container.getLivenessProbe().getHttpGet())).isEqualTo(health + "/liveness @ http");
        assertThat(probe(container.getReadinessProbe().getHttpGet())).isEqualTo(health + "/readiness @ http");
        assertThat(probe(container.getStartupProbe().getHttpGet())).isEqualTo(health + "/liveness @ http");
        assertThat(container.getEnv()).extracting(EnvVar::getName).doesNotContain("SERVER_PORT", "MANAGEMENT_SERVER_PORT");
        assertThat(rendered.configMap(FULLNAME).getData()).doesNotContainKeys("SERVER_PORT", "MANAGEMENT_SERVER_PORT");
        Service service = rendered.one(Service.class);
        assertThat(service.getSpec().getPorts()).singleElement()
                .satisfies(p -> assertThat(p.getTargetPort()).isEqualTo(new IntOrString("http")));
        assertThat(rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/port", Integer.toString(serverPort))
                .containsEntry("prometheus.io/path", actuatorBasePath() + "/prometheus");
    }

    @Test
    void podRunsAsTheImagesNonRootUserOnAReadOnlyRootWithAWritableTmp() throws IOException {
        Rendered rendered = defaults();
        String imageUser = Dockerfile.read().finalStage().arguments("USER").get(0);
        long uid = Long.parseLong(imageUser.split(":")[0]);

        PodSpec pod = rendered.podSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(uid);
        assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(uid);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        var container = rendered.container().getSecurityContext();
        assertThat(container.getRunAsNonRoot()).isTrue();
        assertThat(container.getRunAsUser()).isEqualTo(uid);
        assertThat(container.getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(container.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");

        Volume tmp = volume(rendered, "/tmp");
        assertThat(tmp.getEmptyDir()).as("/tmp is an emptyDir").isNotNull();
        assertThat(tmp.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("4Gi"));
        assertThat(Dockerfile.words(rendered.configMap(FULLNAME).getData().get("JAVA_TOOL_OPTIONS")))
                .contains("-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp", "-Djava.io.tmpdir=/tmp");
    }

    @Test
    void terminationGraceOutlastsTheApplicationsShutdown() throws IOException {
        Duration phase = DurationStyle.detectAndParse(
                String.valueOf(at(applicationYaml(), "spring.lifecycle.timeout-per-shutdown-phase")));
        // WorkerPool.stop: 30s for jobs to hand back at their next step, then interrupt and 10s more.
        Duration workers = Duration.ofSeconds(40);

        Rendered rendered = defaults();
        long preStop = Long.parseLong(rendered.container().getLifecycle().getPreStop().getExec().getCommand().get(1));
        assertThat(rendered.container().getLifecycle().getPreStop().getExec().getCommand().get(0)).isEqualTo("sleep");
        assertThat(rendered.podSpec().getTerminationGracePeriodSeconds())
                .isGreaterThan(preStop + workers.toSeconds() + phase.toSeconds());

        assertThatThrownBy(() -> install(false, null, Map.of("terminationGracePeriodSeconds", 90)))
                .hasMessageContaining("terminationGracePeriodSeconds=90 is too short");
    }

    @Test
    void embeddedH2RefusesMoreThanOneReplica() {
        String message = "The embedded H2 database (database.type=h2) allows exactly one replica";
        assertThatThrownBy(() -> install(false, null, Map.of("replicaCount", 3)))
                .hasMessageContaining(message).hasMessageContaining("could run 3")
                .hasMessageContaining("set database.type=postgresql");
        assertThatThrownBy(() -> install(false, null, Map.of("autoscaling.enabled", true)))
                .hasMessageContaining(message).hasMessageContaining("autoscaling.maxReplicas=6");
        assertThatThrownBy(() -> install(false, null, Map.of("persistence.enabled", false)))
                .hasMessageContaining("needs persistence.enabled=true");
        assertThatThrownBy(() -> install(false, null, Map.of("database.type", "postgresql", "replicaCount", 3)))
                .hasMessageContaining("needs database.url");
    }

    @Test
    void postgresqlCredentialsGoToTheChartsSecret() throws IOException {
        Rendered rendered = install(false, null, Map.of("database.type", "postgresql", "replicaCount", 3,
                "database.url", "jdbc:postgresql://postgres:5432/qalora", "database.username", "qalora",
                "database.password", "s3cret"));

        assertThat(rendered.one(Deployment.class).getSpec().getReplicas()).isEqualTo(3);
        assertThat(rendered.all(PersistentVolumeClaim.class)).isEmpty();
        assertThat(rendered.one(Secret.class).getStringData())
                .containsEntry("SPRING_DATASOURCE_URL", "jdbc:postgresql://postgres:5432/qalora")
                .containsEntry("SPRING_DATASOURCE_USERNAME", "qalora").containsEntry("SPRING_DATASOURCE_PASSWORD", "s3cret");
        assertThat(rendered.configMap(FULLNAME).getData().values()).noneMatch(v -> v.contains("s3cret"));
    }

    @Test
    void configMapBindsToTheServicesProperties() throws IOException {
        Map<String, Object> values = new LinkedHashMap<>(Map.of("qalora.workers.threads", 2,
                "qalora.workers.blasThreads", 3, "qalora.workers.pollInterval", "250ms", "qalora.workers.lease", "45s",
                "qalora.workers.heartbeatInterval", "7s", "qalora.workers.reaperInterval", "12s",
                "qalora.workers.maxAttempts", 5, "qalora.uploads.maxBytes", "2147483648",
                "qalora.results.jsonMaxElements", 4096, "qalora.workers.enabled", false));
        values.put("qalora.merges.syncMaxElements", 65536);
        Rendered rendered = install(false, null, values);
        Map<String, String> data = rendered.configMap(FULLNAME).getData();

        // The ConfigMap's variables, bound as Spring Boot binds the process environment (the source's name selects
        // the environment-variable mapping).
        Binder binder = new Binder(ConfigurationPropertySources.from(new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new LinkedHashMap<>(data))));
        QaLoraProperties properties = binder.bind("qalora", QaLoraProperties.class).get();
        QaLoraProperties.Workers workers = properties.workers();
        assertThat(workers.enabled()).isFalse();
        assertThat(workers.threads()).isEqualTo(2);
        assertThat(workers.blasThreads()).isEqualTo(3);
        assertThat(workers.pollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(workers.lease()).isEqualTo(Duration.ofSeconds(45));
        assertThat(workers.heartbeatInterval()).isEqualTo(Duration.ofSeconds(7));
        assertThat(workers.reaperInterval()).isEqualTo(Duration.ofSeconds(12));
        assertThat(workers.maxAttempts()).isEqualTo(5);
        assertThat(properties.uploads().maxBytes()).isEqualTo(2147483648L);
        assertThat(properties.results().jsonMaxElements()).isEqualTo(4096);
        assertThat(properties.merges().syncMaxElements()).isEqualTo(65536);
        assertThat(rendered.container().getEnvFrom()).singleElement()
                .satisfies(e -> assertThat(e.getConfigMapRef().getName()).isEqualTo(FULLNAME));
    }

    @Test
    void defaultValuesMatchTheApplicationsDefaultsAndTheImagesJvmOptions() throws IOException {
        Map<String, String> data = defaults().configMap(FULLNAME).getData();
        Map<String, Object> qalora = applicationYaml();

        assertThat(data).containsEntry("QALORA_WORKERS_THREADS", String.valueOf(at(qalora, "qalora.workers.threads")))
                .containsEntry("QALORA_WORKERS_BLASTHREADS", String.valueOf(at(qalora, "qalora.workers.blas-threads")))
                .containsEntry("QALORA_WORKERS_POLLINTERVAL", String.valueOf(at(qalora, "qalora.workers.poll-interval")))
                .containsEntry("QALORA_WORKERS_LEASE", String.valueOf(at(qalora, "qalora.workers.lease")))
                .containsEntry("QALORA_WORKERS_MAXATTEMPTS", String.valueOf(at(qalora, "qalora.workers.max-attempts")))
                .containsEntry("QALORA_UPLOADS_MAXBYTES", String.valueOf(at(qalora, "qalora.uploads.max-bytes")))
                .containsEntry("QALORA_MERGES_SYNCMAXELEMENTS",
                        String.valueOf(at(qalora, "qalora.merges.sync-max-elements")));
        String image = Dockerfile.read().finalStage().env().get("JAVA_TOOL_OPTIONS");
        assertThat(Dockerfile.words(data.get("JAVA_TOOL_OPTIONS"))).as("chart and Dockerfile JVM options")
                .containsExactlyElementsOf(Dockerfile.words(image));
    }

    @Test
    void dashboardChartsQueueJobsTrainingErrorHttpAndMemory() throws IOException {
        ConfigMap dashboard = defaults().configMap(FULLNAME + "-dashboard");
        assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        JsonNode json = JsonMapper.builder().build().readTree(dashboard.getData().get("qalora-service.json"));
        List<String> expressions = new ArrayList<>();
        for (JsonNode panel : json.get("panels")) {
            if (panel.has("targets")) {
                panel.get("targets").forEach(t -> expressions.add(t.get("expr").asString()));
            }
        }

        assertThat(expressions).anyMatch(e -> e.contains("qalora_jobs_queued"))
                .anyMatch(e -> e.contains("qalora_jobs_running"))
                .anyMatch(e -> e.matches("histogram_quantile\\(0\\.95, .*rate\\(qalora_job_duration_seconds_bucket.*\\[5m\\].*"))
                .anyMatch(e -> e.matches("histogram_quantile\\(.*qalora_training_step_seconds_bucket.*"))
                .anyMatch(e -> e.contains("by (bits)") && e.contains("qalora_merged_quantization_error_sum")
                        && e.contains("qalora_merged_quantization_error_count"))
                .anyMatch(e -> e.contains("http_server_requests_seconds"))
                .anyMatch(e -> e.contains("jvm_memory_used_bytes"))
                .anyMatch(e -> e.contains("qalora_nd4j_offheap_bytes"))
                .anyMatch(e -> e.contains("container_memory_rss"));
    }

    @Test
    void everyValueIsDocumented() throws IOException {
        for (Path values : List.of(CHART.resolve("values.yaml"), PRODUCTION)) {
            List<String> lines = Files.readAllLines(values);
            String previous = "";
            int listIndent = -1;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int indent = line.length() - line.stripLeading().length();
                if (line.stripLeading().startsWith("- ")) {
                    listIndent = listIndent < 0 ? indent : Math.min(listIndent, indent);
                } else if (line.matches("\\s*[A-Za-z_][\\w.\\-/]*:.*")) {
                    if (listIndent >= 0 && indent <= listIndent) {
                        listIndent = -1;
                    }
                    // Keys inside list items are data (e.g. NetworkPolicy peers), not settings of the chart.
                    if (listIndent < 0) {
                        assertThat(previous.strip().startsWith("#") || line.contains(" # "))
                                .as("%s:%d has no comment: %s", values, i + 1, line.strip()).isTrue();
                    }
                }
                if (!line.isBlank()) {
                    previous = line;
                }
            }
        }
    }

    @Test
    void chartAppVersionIsTheApplicationsVersion() throws Exception {
        var project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile())
                .getDocumentElement();
        String version = null;
        for (int i = 0; i < project.getChildNodes().getLength(); i++) {
            if ("version".equals(project.getChildNodes().item(i).getNodeName())) {
                version = project.getChildNodes().item(i).getTextContent().strip();
            }
        }
        Map<String, Object> chart = yaml(CHART.resolve("Chart.yaml"));
        assertThat(chart.get("apiVersion")).isEqualTo("v2");
        assertThat(chart.get("appVersion")).isEqualTo(version);
        assertThat(chart.get("kubeVersion")).isNotNull();
    }

    /** Each object was read as its own model class, not as a generic resource. */
    private static void assertEveryObjectIsTyped(Rendered rendered) {
        assertThat(rendered.objects()).allSatisfy(o -> assertThat(o.getClass().getSimpleName()).isEqualTo(o.getKind()));
    }

    private static String probe(HTTPGetAction get) {
        return get.getPath() + " @ " + (get.getPort().getStrVal() != null ? get.getPort().getStrVal() : get.getPort().getIntVal());
    }

    private static String secretRef(Container container, String variable) {
        return container.getEnv().stream().filter(e -> e.getName().equals(variable)).findFirst()
                .map(e -> e.getValueFrom().getSecretKeyRef().getName())
                .orElseThrow(() -> new AssertionError("no " + variable));
    }

    private static Volume volume(Rendered rendered, String mountPath) {
        String name = rendered.container().getVolumeMounts().stream().filter(m -> m.getMountPath().equals(mountPath))
                .map(VolumeMount::getName).findFirst().orElseThrow(() -> new AssertionError("nothing mounted at " + mountPath));
        return rendered.podSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst().orElseThrow();
    }

    private static String actuatorBasePath() throws IOException {
        Object basePath = at(applicationYaml(), "management.endpoints.web.base-path");
        return basePath == null ? "/actuator" : basePath.toString();
    }

    static Map<String, Object> applicationYaml() throws IOException {
        return yaml(APPLICATION_YAML);
    }

    private static Map<String, Object> yaml(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file)) {
            Iterable<Object> documents = new Yaml().loadAll(reader);
            return StreamSupport.stream(documents.spliterator(), false).findFirst().map(HelmChartTests::asMap)
                    .orElseThrow();
        }
    }

    /** The value at a dotted path of nested maps, or null. */
    @SuppressWarnings("unchecked")
    static Object at(Map<String, Object> yaml, String path) {
        Object node = yaml;
        for (String key : path.split("\\.")) {
            if (!(node instanceof Map)) {
                return null;
            }
            node = ((Map<String, Object>) node).get(key);
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object document) {
        return (Map<String, Object>) document;
    }
}
