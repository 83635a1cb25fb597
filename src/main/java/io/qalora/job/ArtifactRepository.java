package io.qalora.job;

import java.util.Optional;
import java.util.UUID;

/** The catalogue of uploaded layers and datasets (their bytes live in the {@link BlobStore}). */
public interface ArtifactRepository {

    void insertLayer(LayerInfo layer);

    Optional<LayerInfo> findLayer(UUID id);

    /** Newest first; {@code after} is the id of the last item of the previous page, or null. */
    Page<LayerInfo> listLayers(int limit, UUID after);

    /** Deletes the row; returns whether it existed. */
    boolean deleteLayer(UUID id);

    void insertDataset(DatasetInfo dataset);

    Optional<DatasetInfo> findDataset(UUID id);

    Page<DatasetInfo> listDatasets(int limit, UUID after);

    boolean deleteDataset(UUID id);
}
