package io.qalora.store;

import static io.qalora.store.Columns.instant;
import static io.qalora.store.Columns.nullableInt;
import static io.qalora.store.Columns.timestamp;
import static io.qalora.store.Columns.uuid;

import io.qalora.job.ArtifactRepository;
import io.qalora.job.BlobRef;
import io.qalora.job.DatasetInfo;
import io.qalora.job.DatasetKind;
import io.qalora.job.LayerInfo;
import io.qalora.job.Page;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The layer and dataset tables; each row's blob reference is read from the blob row it points to. */
@Repository
public class JdbcArtifactRepository implements ArtifactRepository {

    private static final String LAYER_SELECT = "SELECT l.id, l.name, l.in_features, l.out_features, l.has_bias,"
            + " l.created_at, l.blob_id, b.sha256, b.size_bytes FROM layer l JOIN blob b ON b.id = l.blob_id";

    private static final String DATASET_SELECT = "SELECT d.id, d.name, d.kind, d.row_count, d.in_features,"
            + " d.out_features, d.num_classes, d.created_at, d.blob_id, b.sha256, b.size_bytes"
            + " FROM dataset d JOIN blob b ON b.id = d.blob_id";

    private static final RowMapper<LayerInfo> LAYER = (rs, n) -> new LayerInfo(uuid(rs, "id"), rs.getString("name"),
            rs.getInt("in_features"), rs.getInt("out_features"), rs.getBoolean("has_bias"), blob(rs),
            instant(rs, "created_at"));

    private static final RowMapper<DatasetInfo> DATASET = (rs, n) -> new DatasetInfo(uuid(rs, "id"),
            rs.getString("name"), DatasetKind.valueOf(rs.getString("kind")), rs.getInt("row_count"),
            rs.getInt("in_features"), nullableInt(rs, "out_features"), nullableInt(rs, "num_classes"), blob(rs),
            instant(rs, "created_at"));

    private final JdbcClient jdbc;

    public JdbcArtifactRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    private static BlobRef blob(ResultSet rs) throws SQLException {
        return new BlobRef(uuid(rs, "blob_id"), rs.getString("sha256"), rs.getLong("size_bytes"));
    }

    @Override
    public void insertLayer(LayerInfo layer) {
        jdbc.sql("INSERT INTO layer (id, name, in_features, out_features, has_bias, blob_id, created_at)"
                + " VALUES (:id, :name, :in, :out, :hasBias, :blobId, :createdAt)")
                .param("id", layer.id()).param("name", layer.name()).param("in", layer.inFeatures())
                .param("out", layer.outFeatures()).param("hasBias", layer.hasBias())
                .param("blobId", layer.blob().id()).param("createdAt", timestamp(layer.createdAt())).update();
    }

    @Override
    public Optional<LayerInfo> findLayer(UUID id) {
        return jdbc.sql(LAYER_SELECT + " WHERE l.id = :id").param("id", id).query(LAYER).optional();
    }

    @Override
    public Page<LayerInfo> listLayers(int limit, UUID after) {
        return list(LAYER_SELECT, "layer", "l", LAYER, limit, after);
    }

    @Override
    public boolean deleteLayer(UUID id) {
        return jdbc.sql("DELETE FROM layer WHERE id = :id").param("id", id).update() == 1;
    }

    @Override
    public void insertDataset(DatasetInfo dataset) {
        jdbc.sql("INSERT INTO dataset (id, name, kind, row_count, in_features, out_features, num_classes, blob_id,"
                + " created_at) VALUES (:id, :name, :kind, :rows, :in, :out, :numClasses, :blobId, :createdAt)")
                .param("id", dataset.id()).param("name", dataset.name()).param("kind", dataset.kind().name())
                .param("rows", dataset.rows()).param("in", dataset.inFeatures())
                .param("out", dataset.outFeatures()).param("numClasses", dataset.numClasses())
                .param("blobId", dataset.blob().id()).param("createdAt", timestamp(dataset.createdAt())).update();
    }

    @Override
    public Optional<DatasetInfo> findDataset(UUID id) {
        return jdbc.sql(DATASET_SELECT + " WHERE d.id = :id").param("id", id).query(DATASET).optional();
    }

    @Override
    public Page<DatasetInfo> listDatasets(int limit, UUID after) {
        return list(DATASET_SELECT, "dataset", "d", DATASET, limit, after);
    }

    @Override
    public boolean deleteDataset(UUID id) {
        return jdbc.sql("DELETE FROM dataset WHERE id = :id").param("id", id).update() == 1;
    }

    private <T> Page<T> list(String select, String table, String alias, RowMapper<T> mapper, int limit, UUID after) {
        Columns.requireLimit(limit);
        String where = after == null ? "" : " WHERE " + Columns.OLDER_THAN_CURSOR.formatted(alias);
        JdbcClient.StatementSpec query = jdbc.sql(select + where + " ORDER BY " + alias + ".created_at DESC, "
                + alias + ".id DESC FETCH FIRST :fetch ROWS ONLY").param("fetch", limit + 1L);
        if (after != null) {
            query = query.param("cursorAt", Columns.cursorCreatedAt(jdbc, table, after)).param("after", after);
        }
        return Columns.page(query.query(mapper).list(), limit);
    }
}
