package db.migration;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Lets PostgreSQL keep blob chunks in their rows, cheaply. Its blob store now writes chunks small
 * enough for a heap page by {@code COPY}, and two things stood in the way:
 * <ul>
 * <li>the foreign key of {@code blob_chunk} to {@code blob}: its trigger looked up (and share-locked)
 * the blob row once per chunk, about a third of the server's work for a 256 MiB upload in 8 KiB
 * rows. It is replaced by a trigger on {@code blob} that deletes a blob's chunks with it, the
 * key's {@code ON DELETE CASCADE}, so that nothing is checked per chunk while code that deletes
 * only the blob row (the version before this one, during a rolling update or after a rollback, or
 * a hand-written statement) still leaves no chunks behind. The store only writes chunks of a blob
 * it has inserted just before in the same transaction.
 * <li>the default TOAST target of about 2 KiB: larger rows were compressed or moved out of line.
 * {@code EXTERNAL} (no compression) with a target of 8160 bytes keeps an 8 KiB chunk in its row,
 * and still takes the 1 MiB chunks of the version before, out of line.
 * </ul>
 * H2 keeps its key: it writes 128 KiB chunks by {@code INSERT} and has none of these settings.
 */
public class V3__Blob_chunk_rows_in_line extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws SQLException {
        Connection connection = context.getConnection();
        DatabaseMetaData meta = connection.getMetaData();
        if (!"PostgreSQL".equals(meta.getDatabaseProductName())) {
            return;
        }
        List<String> foreignKeys = new ArrayList<>();
        try (ResultSet keys = meta.getImportedKeys(connection.getCatalog(), connection.getSchema(), "blob_chunk")) {
            while (keys.next()) {
                foreignKeys.add(keys.getString("FK_NAME"));
            }
        }
        if (foreignKeys.size() != 1) {
            throw new IllegalStateException("expected one foreign key on blob_chunk, found " + foreignKeys);
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("ALTER TABLE blob_chunk DROP CONSTRAINT \"" + foreignKeys.get(0) + "\"");
            statement.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL");
            statement.execute("ALTER TABLE blob_chunk SET (toast_tuple_target = 8160)");
            // The table's own schema, not the search path's: the service may run in any schema.
            statement.execute("""
                    CREATE FUNCTION blob_delete_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        EXECUTE format('DELETE FROM %I.blob_chunk WHERE blob_id = $1', TG_TABLE_SCHEMA) USING OLD.id;
                        RETURN OLD;
                    END
                    $$""");
            statement.execute("CREATE TRIGGER blob_delete_chunks AFTER DELETE ON blob FOR EACH ROW"
                    + " EXECUTE FUNCTION blob_delete_chunks()");
        }
    }
}
