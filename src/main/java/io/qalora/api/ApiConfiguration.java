package io.qalora.api;

import io.micrometer.observation.ObservationPredicate;
import io.qalora.job.QaLoraProperties;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.servers.Server;
import io.swagger.v3.oas.models.tags.Tag;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.observation.ServerRequestObservationContext;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** The API's web settings and its OpenAPI description (served at /v3/api-docs, committed as openapi/openapi.yaml). */
@Configuration(proxyBeanMethods = false)
class ApiConfiguration implements WebMvcConfigurer {

    static final String API_VERSION = "1";
    static final String PROBLEM_REF = Components.COMPONENTS_SCHEMAS_REF + "Problem";

    private final QaLoraProperties properties;

    ApiConfiguration(QaLoraProperties properties) {
        this.properties = properties;
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new UploadLimit(properties.uploads().maxBytes()))
                .addPathPatterns("/v1/layers", "/v1/datasets", "/v1/merges");
    }

    /** The instance's own warm-up requests stay out of the request metrics (http.server.requests). */
    @Bean
    ObservationPredicate warmUpRequestsUnobserved(StartupWarmUp warmUp) {
        return (name, context) -> !(context instanceof ServerRequestObservationContext request
                && warmUp.isWarmUp(request.getCarrier()));
    }

    @Bean
    FilterRegistrationBean<BoundedRequestBodies> boundedRequestBodies(QaLoraProperties properties) {
        FilterRegistrationBean<BoundedRequestBodies> registration =
                new FilterRegistrationBean<>(new BoundedRequestBodies(properties.uploads().maxBytes()));
        registration.addUrlPatterns("/v1/*");
        return registration;
    }

    /** Fixed info and a relative server URL, so the description is the same on every host and port. */
    @Bean
    OpenAPI qaLoraOpenApi() {
        return new OpenAPI()
                .info(new Info()
                        .title("QA-LoRA service")
                        .version(API_VERSION)
                        .description("""
                                Quantization-aware LoRA fine-tuning of dense layers, as a service. Upload a base \
                                layer (W [out, in], b [out]) and datasets, submit a training job, follow it, and \
                                download the merged low-bit layer (codes, scales, zeros, dequantized weights), the \
                                adapter, the quantization error and an evaluation against LoRA followed by \
                                post-training quantization.

                                Errors are RFC 9457 problems (application/problem+json) whose `type` is one of \
                                https://qalora.io/problems/{invalid-parameter, invalid-safetensors, \
                                malformed-request, not-found, conflict, payload-too-large, result-too-large-for-json, \
                                method-not-allowed, not-acceptable, unsupported-media-type, corrupt-data, \
                                service-unavailable, internal-error}."""))
                .servers(List.of(new Server().url("/").description("This server")));
    }

    /**
     * Every 4xx and 5xx answer of this API is a problem: the operations declare only status and
     * meaning, and get the {@code Problem} schema here.
     */
    @Bean
    OperationCustomizer problemResponses() {
        return (operation, handler) -> {
            if (operation.getResponses() != null) {
                operation.getResponses().forEach((code, response) -> {
                    if (code.startsWith("4") || code.startsWith("5")) {
                        response.setContent(new Content().addMediaType(
                                org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE,
                                new MediaType().schema(new Schema<>().$ref(PROBLEM_REF))));
                    }
                });
            }
            return operation;
        };
    }

    /** Paths, schemas and tags (from the controllers' @Tag) in name order, whatever order handlers were found in. */
    @Bean
    OpenApiCustomizer sortedOpenApi() {
        return openApi -> {
            if (openApi.getPaths() != null) {
                var sorted = new io.swagger.v3.oas.models.Paths();
                new TreeMap<>(openApi.getPaths()).forEach(sorted::addPathItem);
                openApi.setPaths(sorted);
            }
            if (openApi.getComponents() == null) {
                openApi.setComponents(new Components());
            }
            ModelConverters.getInstance(true).read(ProblemSchema.class).forEach(openApi.getComponents()::addSchemas);
            openApi.getComponents().setSchemas(new TreeMap<>(openApi.getComponents().getSchemas()));
            if (openApi.getTags() != null) {
                openApi.setTags(openApi.getTags().stream().sorted(Comparator.comparing(Tag::getName)).toList());
            }
        };
    }
}
