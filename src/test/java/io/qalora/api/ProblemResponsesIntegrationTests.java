package io.qalora.api;

import static io.qalora.api.HttpApi.parts;
import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * Every refused request answers an RFC 9457 problem naming what is wrong, and stores nothing:
 * each test compares the number of layers, datasets and jobs before and after.
 */
@ApiIntegrationTest
class ProblemResponsesIntegrationTests {

    @LocalServerPort
    int port;

    HttpApi api;
    String layer;
    String dataset;
    int[] stored;

    @BeforeEach
    void layerAndDataset() {
        api = new HttpApi(port);
        layer = Fixture.layer(api, 2, 4);
        dataset = Fixture.regression(api, 8, 4, 2);
        stored = counts();
    }

    @AfterEach
    void nothingWasStored() {
        assertThat(counts()).as("layers, datasets, jobs").containsExactly(stored);
    }

    private int[] counts() {
        return new int[] {api.count("/v1/layers"), api.count("/v1/datasets"), api.count("/v1/jobs")};
    }

    // Layers

    @Test
    void malformedJsonIsABadRequest() {
        JsonNode p = api.postJson("/v1/layers", "{\"weight\": [[1, 2]").problem(400, "malformed-request");
        assertThat(p.get("detail").asString()).contains("not well-formed JSON").contains("line 1")
                .doesNotContain("Source");
        api.postJson("/v1/jobs", "{\"layerId\": ").problem(400, "malformed-request");
        api.postJson("/v1/datasets", "").problem(400, "malformed-request");
    }

    @Test
    void aStringAmongTheWeightsIsNamedByItsPath() {
        JsonNode p = api.postJson("/v1/layers", "{\"weight\": [[1, \"x\"]]}").problem(400, "malformed-request");
        assertThat(p.get("field").asString()).isEqualTo("weight[0][1]");
    }

    @Test
    void raggedWeightRowsAreNamed() {
        JsonNode p = api.postJson("/v1/layers", "{\"weight\": [[1, 2], [3]]}").problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo("weight");
        assertThat(p.get("detail").asString()).contains("row 1");
    }

    @Test
    void aBiasOfTheWrongLengthIsNamed() {
        JsonNode p = api.postJson("/v1/layers", "{\"weight\": [[1, 2], [3, 4]], \"bias\": [1, 2, 3]}")
                .problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo("bias");
    }

    @Test
    void aMissingWeightIsNamed() {
        assertThat(api.postJson("/v1/layers", "{\"name\": \"w\"}").problem(422, "invalid-parameter").get("field")
                .asString()).isEqualTo("weight");
        assertThat(api.postJson("/v1/layers", "{\"weight\": []}").problem(422, "invalid-parameter").get("field")
                .asString()).isEqualTo("weight");
    }

    @Test
    void aTruncatedFileNamesTheRule() {
        byte[] file = Payloads.layer(4, 4, true);
        byte[] truncated = Arrays.copyOf(file, file.length - 10);

        JsonNode p = api.postBytes("/v1/layers", "application/octet-stream", truncated)
                .problem(400, "invalid-safetensors");
        assertThat(p.get("rule").asString()).isEqualTo("TRUNCATED");
        api.postMultipart("/v1/layers", parts("file", truncated)).problem(400, "invalid-safetensors");
    }

    @Test
    void aNaNInAnUploadedWeightIsNamedWithItsRowAndColumn() {
        float[] weight = Payloads.ramp(3 * 5, 0.1f);
        weight[5 + 2] = Float.NaN;
        byte[] file = SafetensorsWriter.toBytes(Map.of(), List.of(Tensor.f32("weight", new int[] {3, 5}, weight)));

        JsonNode p = api.postBytes("/v1/layers", "application/octet-stream", file).problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo("weight");
        assertThat(p.get("detail").asString()).isEqualTo(
                "weight: value at index 7 (row 1, column 2) is NaN; all values must be finite");
        api.postMultipart("/v1/layers", parts("file", file)).problem(422, "invalid-parameter");
    }

    @Test
    void anInfinityInUploadedTargetsOrAnF16BiasIsNamed() {
        float[] targets = Payloads.ramp(4 * 2, 0.5f);
        targets[7] = Float.NEGATIVE_INFINITY;
        byte[] data = SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("inputs", new int[] {4, 3}, Payloads.ramp(12, 0.1f)),
                Tensor.f32("targets", new int[] {4, 2}, targets)));
        JsonNode p = api.postBytes("/v1/datasets", "application/octet-stream", data).problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo("targets");
        assertThat(p.get("detail").asString()).contains("index 7 (row 3, column 1) is -Infinity");

        byte[] layerFile = SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("weight", new int[] {2, 2}, Payloads.ramp(4, 0.1f)),
                Tensor.f16("bias", new int[] {2}, new float[] {0.5f, 70_000f})));
        p = api.postBytes("/v1/layers", "application/octet-stream", layerFile).problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo("bias");
        assertThat(p.get("detail").asString()).contains("value at index 1 is Infinity");
    }

    @Test
    void trailingBytesNameTheRule() {
        byte[] file = Payloads.layer(2, 2, false);
        byte[] longer = Arrays.copyOf(file, file.length + 4);

        assertThat(api.postBytes("/v1/layers", "application/octet-stream", longer)
                .problem(400, "invalid-safetensors").get("rule").asString()).isEqualTo("FILE_LENGTH_MISMATCH");
    }

    @Test
    void headerGarbageNamesTheRule() {
        byte[] header = "{not json at all}".getBytes(StandardCharsets.UTF_8);
        byte[] file = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array();

        JsonNode p = api.postBytes("/v1/layers", "application/octet-stream", file).problem(400, "invalid-safetensors");
        assertThat(p.get("rule").asString()).isEqualTo("HEADER_NOT_JSON");
        assertThat(p.has("tensor")).isFalse();
    }

    @Test
    void aFileWithoutWeightNamesTheTensor() {
        JsonNode p = api.postBytes("/v1/layers", "application/octet-stream", Payloads.regression(2, 2, 1))
                .problem(400, "invalid-safetensors");
        assertThat(p.get("rule").asString()).isEqualTo("MISSING_TENSOR");
        assertThat(p.get("tensor").asString()).isEqualTo("weight");
    }

    @Test
    void aMultipartUploadWithoutItsFilePartNamesIt() {
        JsonNode p = api.postMultipart("/v1/layers", parts("name", "no file")).problem(400, "malformed-request");
        assertThat(p.get("field").asString()).isEqualTo("file");
        api.postMultipart("/v1/datasets", parts("name", "no file")).problem(400, "malformed-request");
    }

    @Test
    void anotherContentTypeIsUnsupported() {
        api.postBytes("/v1/layers", "text/plain", "weight".getBytes(StandardCharsets.UTF_8))
                .problem(415, "unsupported-media-type");
        api.postBytes("/v1/jobs", "application/octet-stream", new byte[] {1}).problem(415, "unsupported-media-type");
    }

    @Test
    void aNameOver200CharactersIsNamed() {
        assertThat(api.postBytes("/v1/layers?name=" + "n".repeat(201), "application/octet-stream",
                Payloads.layer(1, 1, false)).problem(422, "invalid-parameter").get("field").asString()).isEqualTo("name");
    }

    // Datasets

    @Test
    void targetsAndLabelsTogetherAreRefused() {
        assertThat(api.postJson("/v1/datasets", "{\"inputs\": [[1]], \"targets\": [[1]], \"labels\": [0]}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("targets");
        assertThat(api.postJson("/v1/datasets", "{\"inputs\": [[1]]}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("targets");
    }

    @Test
    void rowCountsThatDifferAreNamed() {
        assertThat(api.postJson("/v1/datasets", "{\"inputs\": [[1], [2]], \"targets\": [[1]]}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("targets");
        assertThat(api.postJson("/v1/datasets", "{\"inputs\": [[1], [2]], \"labels\": [1]}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("labels");
        assertThat(api.postJson("/v1/datasets", "{\"inputs\": [null, [2]], \"labels\": [1, 0]}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("inputs");
    }

    @Test
    void aLabelOrValueOfTheWrongTypeIsNamedByItsPath() {
        JsonNode label = api.postJson("/v1/datasets", "{\"inputs\": [[1], [2]], \"labels\": [0, 1.5]}")
                .problem(400, "malformed-request");
        assertThat(label.get("field").asString()).isEqualTo("labels[1]");
        assertThat(label.get("detail").asString()).isEqualTo("labels[1]: has the wrong JSON type; expected an integer");
        JsonNode missing = api.postJson("/v1/datasets", "{\"inputs\": [[1, null]], \"labels\": [0]}")
                .problem(400, "malformed-request");
        assertThat(missing.get("field").asString()).isEqualTo("inputs[0][1]");
        assertThat(missing.get("detail").asString()).isEqualTo("inputs[0][1]: must not be null");
    }

    @Test
    void aNegativeLabelBreaksTheDatasetRules() {
        JsonNode p = api.postBytes("/v1/datasets", "application/octet-stream", Payloads.classification(2, 0, -1, 1))
                .problem(400, "invalid-safetensors");
        assertThat(p.get("tensor").asString()).isEqualTo("labels");
        assertThat(p.get("rule").asString()).isEqualTo("BAD_ENTRY");
    }

    @Test
    void aLayerFileIsNotADataset() {
        assertThat(api.postBytes("/v1/datasets", "application/octet-stream", Payloads.layer(2, 2, true))
                .problem(400, "invalid-safetensors").get("rule").asString()).isEqualTo("MISSING_TENSOR");
    }

    // Jobs: references and shapes

    @Test
    void anUnknownLayerOrDatasetIsNotFound() {
        String unknown = UUID.randomUUID().toString();
        assertThat(api.postJson("/v1/jobs", Fixture.job(unknown, dataset, null)).problem(404, "not-found")
                .get("resource").asString()).isEqualTo("layer");
        assertThat(api.postJson("/v1/jobs", Fixture.job(layer, unknown, null)).problem(404, "not-found")
                .get("resource").asString()).isEqualTo("dataset");
    }

    @Test
    void missingIdsAreNamed() {
        assertThat(api.postJson("/v1/jobs", "{\"trainingDatasetId\": \"" + dataset + "\"}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("layerId");
        assertThat(api.postJson("/v1/jobs", "{\"layerId\": \"" + layer + "\"}")
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("trainingDatasetId");
    }

    @Test
    void anIdThatIsNoUuidIsNamed() {
        assertThat(api.postJson("/v1/jobs", Fixture.job("not-a-uuid", dataset, null))
                .problem(400, "malformed-request").get("field").asString()).isEqualTo("layerId");
    }

    @Test
    void aDatasetWhoseInputsDoNotFitTheLayerIsNamed() {
        String wide = Fixture.regression(api, 4, 5, 2);
        stored[1]++;
        JsonNode p = api.postJson("/v1/jobs", Fixture.job(layer, wide, "{\"rank\": 1}")).problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo("trainingDatasetId");
        assertThat(p.get("detail").asString()).contains("inFeatures 5").contains("inFeatures 4");
    }

    @Test
    void targetsOfAnotherWidthThanTheLayerAreNamed() {
        String threeOut = Fixture.regression(api, 4, 4, 3);
        stored[1]++;
        assertThat(api.postJson("/v1/jobs", Fixture.job(layer, threeOut, "{\"rank\": 1}"))
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("trainingDatasetId");
    }

    @Test
    void labelsAtOrAboveTheLayersOutputsAreNamed() {
        String threeClasses = Fixture.classification(api, 4, 0, 1, 2);
        stored[1]++;
        assertThat(api.postJson("/v1/jobs", Fixture.job(layer, threeClasses, "{\"rank\": 1}"))
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("trainingDatasetId");
    }

    @Test
    void aValidationDatasetOfAnotherKindIsNamed() {
        String labels = Fixture.classification(api, 4, 0, 1);
        stored[1]++;
        String body = "{\"layerId\": \"%s\", \"trainingDatasetId\": \"%s\", \"validationDatasetId\": \"%s\", "
                + "\"hyperparameters\": {\"rank\": 1}}";
        assertThat(api.postJson("/v1/jobs", body.formatted(layer, dataset, labels))
                .problem(422, "invalid-parameter").get("field").asString()).isEqualTo("validationDatasetId");
    }

    // Jobs: hyperparameters

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"rank\": 0}                                   | hyperparameters.rank",
            "{\"rank\": 3}                                   | hyperparameters.rank",
            "{\"rank\": 1, \"quantizationBits\": 17}         | hyperparameters.quantizationBits",
            "{\"rank\": 1, \"quantizationBits\": 0}          | hyperparameters.quantizationBits",
            "{\"rank\": 1, \"quantizationBits\": 1, \"symmetric\": true} | hyperparameters.quantizationBits",
            "{\"rank\": 1, \"groupSize\": 0}                 | hyperparameters.groupSize",
            "{\"rank\": 1, \"epochs\": 0}                    | hyperparameters.epochs",
            "{\"rank\": 1, \"epochs\": 10001}                | hyperparameters.epochs",
            "{\"rank\": 1, \"learningRate\": -1}             | hyperparameters.learningRate",
            "{\"rank\": 1, \"learningRate\": 0}              | hyperparameters.learningRate",
            "{\"rank\": 1, \"batchSize\": 0}                 | hyperparameters.batchSize",
            "{\"rank\": 1, \"quantizationWarmupSteps\": -1}  | hyperparameters.quantizationWarmupSteps",
            "{\"rank\": 1, \"maxGradNorm\": 0}               | hyperparameters.maxGradNorm"})
    void anIllegalHyperparameterIsNamed(String hyperparameters, String field) {
        JsonNode p = api.postJson("/v1/jobs", Fixture.job(layer, dataset, hyperparameters))
                .problem(422, "invalid-parameter");
        assertThat(p.get("field").asString()).isEqualTo(field);
        assertThat(p.get("detail").asString()).startsWith(field + ": ");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"optimizer\": \"RMSPROP\"}          | hyperparameters.optimizer",
            "{\"quantizationTarget\": \"BOTH\"}    | hyperparameters.quantizationTarget",
            "{\"learningRateSchedule\": \"STEP\"}  | hyperparameters.learningRateSchedule",
            "{\"rank\": \"two\"}                   | hyperparameters.rank",
            "{\"learningRate\": \"fast\"}          | hyperparameters.learningRate",
            "{\"symmetric\": \"maybe\"}            | hyperparameters.symmetric",
            "{\"rank\": [1]}                       | hyperparameters.rank",
            "{\"rank\": 2.7}                       | hyperparameters.rank",
            "{\"rank\": \"2\"}                     | hyperparameters.rank",
            "{\"epochs\": 10000000000}             | hyperparameters.epochs",
            "{\"seed\": 1.5}                       | hyperparameters.seed",
            "[1, 2]                                | hyperparameters"})
    void aValueOfTheWrongTypeIsNamed(String hyperparameters, String field) {
        JsonNode p = api.postJson("/v1/jobs", Fixture.job(layer, dataset, hyperparameters))
                .problem(400, "malformed-request");
        assertThat(p.get("field").asString()).isEqualTo(field);
    }

    @Test
    void anUnknownOptimizerListsTheKnownOnes() {
        JsonNode p = api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"optimizer\": \"RMSPROP\"}"))
                .problem(400, "malformed-request");
        assertThat(p.get("detail").asString()).isEqualTo(
                "hyperparameters.optimizer: 'RMSPROP' is not one of [ADAM, SGD]");
    }

    @Test
    void tooMuchMetadataOrABadIdempotencyKeyIsNamed() {
        StringBuilder metadata = new StringBuilder("{");
        for (int i = 0; i < 51; i++) {
            metadata.append(i == 0 ? "" : ",").append("\"k").append(i).append("\": \"v\"");
        }
        String body = "{\"layerId\": \"" + layer + "\", \"trainingDatasetId\": \"" + dataset
                + "\", \"hyperparameters\": {\"rank\": 1}, \"metadata\": " + metadata + "}}";
        assertThat(api.postJson("/v1/jobs", body).problem(422, "invalid-parameter").get("field").asString())
                .isEqualTo("metadata");
        assertThat(api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 1}"), "Idempotency-Key",
                "k".repeat(201)).problem(422, "invalid-parameter").get("field").asString()).isEqualTo("Idempotency-Key");
    }

    // Parameters and paths

    @Test
    void aPathIdThatIsNoUuidIsNamed() {
        for (String path : java.util.List.of("/v1/layers/42", "/v1/datasets/x", "/v1/jobs/abc", "/v1/jobs/abc/events",
                "/v1/layers/42/weights")) {
            assertThat(api.get(path).problem(400, "malformed-request").get("field").asString()).as(path).isEqualTo("id");
        }
        api.delete("/v1/layers/42").problem(400, "malformed-request");
    }

    @Test
    void badQueryParametersAreNamed() {
        JsonNode status = api.get("/v1/jobs?status=DONE").problem(400, "malformed-request");
        assertThat(status.get("field").asString()).isEqualTo("status");
        assertThat(status.get("detail").asString()).contains("QUEUED").contains("SUCCEEDED");
        JsonNode kind = api.get("/v1/jobs?kind=train").problem(400, "malformed-request");
        assertThat(kind.get("field").asString()).isEqualTo("kind");
        assertThat(kind.get("detail").asString()).contains("TRAINING").contains("MERGE");
        assertThat(api.get("/v1/jobs?after=last").problem(400, "malformed-request").get("field").asString())
                .isEqualTo("after");
        assertThat(api.get("/v1/layers?limit=many").problem(400, "malformed-request").get("field").asString())
                .isEqualTo("limit");
        assertThat(api.get("/v1/layers?limit=0").problem(422, "invalid-parameter").get("field").asString())
                .isEqualTo("limit");
        assertThat(api.get("/v1/datasets?limit=101").problem(422, "invalid-parameter").get("field").asString())
                .isEqualTo("limit");
        String job = UUID.randomUUID().toString();
        assertThat(api.get("/v1/jobs/" + job + "/merged?format=xml").problem(400, "malformed-request")
                .get("field").asString()).isEqualTo("format");
    }

    @Test
    void anUnknownPathOrMethodIsAProblemToo() {
        api.get("/v1/nothing-here").problem(404, "not-found");
        api.send("PUT", "/v1/layers").problem(405, "method-not-allowed");
    }
}
