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
 * Lets PostgreSQL keep blob chunks in their rows. Its blob store now writes chunks small enough
 * for a heap page by {@code COPY}, and two things stood in the way of that being cheap:
 * <ul>
 * <li>the foreign key of {@code blob_chunk} to {@code blob}: its trigger looked up (and share-locked)
 * the blob row once per chunk, about a third of the server's work for a 256 MiB upload in 8 KiB
 * rows. The store deletes a blob's chunks itself and only ever writes chunks of a blob it has just
 * inserted in the same transaction. Dropped on both databases so that the schema stays one; each
 * named the constraint itself, so the name is looked up.
 * <li>PostgreSQL's default storage of {@code data}, which compresses and moves out of line (TOAST)
 * any row over 2 KiB. {@code PLAIN} keeps it in the row, uncompressed; rows already stored keep
 * their out-of-line values. H2 has no such setting.
 * </ul>
 */
public class V3__Blob_chunk_rows_in_line extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws SQLException {
        Connection connection = context.getConnection();
        DatabaseMetaData meta = connection.getMetaData();
        String table = meta.storesUpperCaseIdentifiers() ? "BLOB_CHUNK" : "blob_chunk";
        List<String> foreignKeys = new ArrayList<>();
        try (ResultSet keys = meta.getImportedKeys(connection.getCatalog(), connection.getSchema(), table)) {
            while (keys.next()) {
                foreignKeys.add(keys.getString("FK_NAME"));
            }
        }
        if (foreignKeys.size() != 1) {
            throw new IllegalStateException("expected one foreign key on blob_chunk, found " + foreignKeys);
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("ALTER TABLE blob_chunk DROP CONSTRAINT \"" + foreignKeys.get(0) + "\"");
            if ("PostgreSQL".equals(meta.getDatabaseProductName())) {
                statement.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE PLAIN");
            }
        }
    }
}
