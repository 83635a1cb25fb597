package io.qalora.store;

import static io.qalora.store.StoreFixtures.T0;
import static io.qalora.store.StoreFixtures.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import io.qalora.job.BlobRef;
import io.qalora.job.DatasetInfo;
import io.qalora.job.DatasetKind;
import io.qalora.job.LayerInfo;
import io.qalora.job.Page;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;

/** What every {@link io.qalora.job.ArtifactRepository} database must do; subclasses pick the database. */
abstract class ArtifactRepositoryContract extends DatabaseTestSupport {

    private JdbcArtifactRepository artifacts;

    @BeforeAll
    void createRepository() {
        artifacts = new JdbcArtifactRepository(jdbc);
    }

    private BlobRef blob() {
        byte[] bytes = randomBytes(100, System.nanoTime());
        return blobs.write(new ByteArrayInputStream(bytes), bytes.length);
    }

    private LayerInfo layer(String name, Instant createdAt) {
        return new LayerInfo(UUID.randomUUID(), name, 64, 32, true, blob(), createdAt);
    }

    private DatasetInfo dataset(String name, Instant createdAt) {
        return new DatasetInfo(UUID.randomUUID(), name, DatasetKind.REGRESSION, 1000, 64, 32, null, blob(), createdAt);
    }

    private static List<String> names(Page<LayerInfo> page) {
        return page.data().stream().map(LayerInfo::name).toList();
    }

    @Test
    void aLayerReadsBackAsItWasInsertedWithItsBlobReference() {
        Instant withNanos = T0.plusNanos(789);
        LayerInfo layer = new LayerInfo(UUID.randomUUID(), "q_proj", 4096, 1024, false, blob(), withNanos);

        artifacts.insertLayer(layer);

        assertThat(artifacts.findLayer(layer.id())).contains(new LayerInfo(layer.id(), "q_proj", 4096, 1024, false,
                layer.blob(), withNanos.truncatedTo(ChronoUnit.MICROS)));
        assertThat(artifacts.findLayer(UUID.randomUUID())).isEmpty();
    }

    @Test
    void datasetsOfBothKindsReadBackWithTheirNullableWidths() {
        DatasetInfo regression = new DatasetInfo(UUID.randomUUID(), "targets", DatasetKind.REGRESSION, 512, 16, 8,
                null, blob(), T0);
        DatasetInfo classification = new DatasetInfo(UUID.randomUUID(), null, DatasetKind.CLASSIFICATION, 300, 16,
                null, 10, blob(), T0.plusSeconds(1));

        artifacts.insertDataset(regression);
        artifacts.insertDataset(classification);

        assertThat(artifacts.findDataset(regression.id())).contains(regression);
        assertThat(artifacts.findDataset(classification.id())).contains(classification);
        assertThat(artifacts.findDataset(UUID.randomUUID())).isEmpty();
    }

    @Test
    void layersAreListedNewestFirstPageByPage() {
        for (int i = 0; i < 5; i++) {
            artifacts.insertLayer(layer("layer" + i, T0.plusSeconds(i)));
        }

        Page<LayerInfo> first = artifacts.listLayers(2, null);
        Page<LayerInfo> second = artifacts.listLayers(2, first.data().get(1).id());
        Page<LayerInfo> third = artifacts.listLayers(2, second.data().get(1).id());

        assertThat(names(first)).containsExactly("layer4", "layer3");
        assertThat(first.hasMore()).isTrue();
        assertThat(names(second)).containsExactly("layer2", "layer1");
        assertThat(second.hasMore()).isTrue();
        assertThat(names(third)).containsExactly("layer0");
        assertThat(third.hasMore()).isFalse();
        assertThat(artifacts.listLayers(5, null).hasMore()).isFalse();
    }

    @Test
    void layersCreatedAtTheSameInstantArePagedWithoutLossOrRepetition() {
        List<UUID> inserted = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            LayerInfo layer = layer("same" + i, T0);
            artifacts.insertLayer(layer);
            inserted.add(layer.id());
        }

        List<UUID> seen = new ArrayList<>();
        Page<LayerInfo> page = artifacts.listLayers(2, null);
        seen.addAll(page.data().stream().map(LayerInfo::id).toList());
        while (page.hasMore()) {
            page = artifacts.listLayers(2, seen.get(seen.size() - 1));
            seen.addAll(page.data().stream().map(LayerInfo::id).toList());
        }

        assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(inserted);
        assertThat(seen).isEqualTo(artifacts.listLayers(10, null).data().stream().map(LayerInfo::id).toList());
    }

    @Test
    void datasetsAreListedNewestFirstPageByPage() {
        for (int i = 0; i < 3; i++) {
            artifacts.insertDataset(dataset("dataset" + i, T0.plusMillis(i)));
        }

        Page<DatasetInfo> first = artifacts.listDatasets(2, null);
        Page<DatasetInfo> second = artifacts.listDatasets(2, first.data().get(1).id());

        assertThat(first.data()).extracting(DatasetInfo::name).containsExactly("dataset2", "dataset1");
        assertThat(first.hasMore()).isTrue();
        assertThat(second.data()).extracting(DatasetInfo::name).containsExactly("dataset0");
        assertThat(second.hasMore()).isFalse();
    }

    @Test
    void anEmptyCatalogueIsOneEmptyPage() {
        assertThat(artifacts.listLayers(10, null)).isEqualTo(new Page<>(List.of(), false));
        assertThat(artifacts.listDatasets(10, null)).isEqualTo(new Page<>(List.of(), false));
    }

    @Test
    void anUnknownCursorIsAnInvalidParameter() {
        artifacts.insertLayer(layer("only", T0));

        assertThatThrownBy(() -> artifacts.listLayers(10, UUID.randomUUID()))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("after"));
        assertThatThrownBy(() -> artifacts.listDatasets(10, UUID.randomUUID()))
                .isInstanceOf(InvalidParameterException.class);
    }

    @Test
    void deletingRemovesTheRowOnceAndTellsWhetherItExisted() {
        LayerInfo layer = layer("doomed", T0);
        DatasetInfo dataset = dataset("doomed", T0);
        artifacts.insertLayer(layer);
        artifacts.insertDataset(dataset);

        assertThat(artifacts.deleteLayer(layer.id())).isTrue();
        assertThat(artifacts.deleteLayer(layer.id())).isFalse();
        assertThat(artifacts.findLayer(layer.id())).isEmpty();
        assertThat(artifacts.deleteDataset(dataset.id())).isTrue();
        assertThat(artifacts.deleteDataset(dataset.id())).isFalse();
        assertThat(artifacts.findDataset(dataset.id())).isEmpty();
    }

    @Test
    void theBlobOfACataloguedLayerCannotBeDeletedBeforeTheLayer() {
        LayerInfo layer = layer("kept", T0);
        artifacts.insertLayer(layer);

        assertThatThrownBy(() -> blobs.delete(layer.blob().id())).isInstanceOf(DataIntegrityViolationException.class);

        artifacts.deleteLayer(layer.id());
        blobs.delete(layer.blob().id());
        assertThat(count("blob")).isZero();
    }

    @Test
    void aLayerNeedsAStoredBlob() {
        LayerInfo layer = new LayerInfo(UUID.randomUUID(), "orphan", 1, 1, false,
                new BlobRef(UUID.randomUUID(), "00", 1), T0);

        assertThatThrownBy(() -> artifacts.insertLayer(layer)).isInstanceOf(DataIntegrityViolationException.class);
    }
}
