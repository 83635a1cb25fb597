package io.qalora.store;

import io.qalora.InvalidParameterException;
import io.qalora.job.Page;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Conversions between Java values and the columns of the schema, the same on every database. */
final class Columns {

    /**
     * Keyset paging, newest first: the condition that selects the rows after the cursor row in the
     * order {@code created_at DESC, id DESC}: {@code (created_at, id) < (:cursorAt, :after)} spelled
     * out without a row-value comparison. {@code %1$s} is the table's alias.
     */
    static final String OLDER_THAN_CURSOR = "(%1$s.created_at < :cursorAt"
            + " OR (%1$s.created_at = :cursorAt AND %1$s.id < :after))";

    private Columns() {
    }

    /**
     * An instant as a TIMESTAMP WITH TIME ZONE parameter, at UTC and truncated to microseconds
     * (the precision of PostgreSQL), so that what is read back equals what was written.
     */
    static OffsetDateTime timestamp(Instant instant) {
        return instant == null ? null : stored(instant).atOffset(ZoneOffset.UTC);
    }

    /** The instant as it will read back from the database. */
    static Instant stored(Instant instant) {
        return instant == null ? null : instant.truncatedTo(ChronoUnit.MICROS);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    static UUID uuid(ResultSet rs, String column) throws SQLException {
        return rs.getObject(column, UUID.class);
    }

    static Integer nullableInt(ResultSet rs, String column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }

    static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    static Double nullableDouble(ResultSet rs, String column) throws SQLException {
        double value = rs.getDouble(column);
        return rs.wasNull() ? null : value;
    }

    /** The creation time of the cursor row; an unknown cursor is a bad parameter, not an empty page. */
    static OffsetDateTime cursorCreatedAt(JdbcClient jdbc, String table, UUID after) {
        return jdbc.sql("SELECT created_at FROM " + table + " WHERE id = :id").param("id", after)
                .query((rs, n) -> rs.getObject(1, OffsetDateTime.class)).optional()
                .orElseThrow(() -> new InvalidParameterException("after", "no " + table + " has the id " + after));
    }

    /** {@code rows} was fetched with {@code limit + 1}: the extra row only tells that more follow. */
    static <T> Page<T> page(List<T> rows, int limit) {
        boolean hasMore = rows.size() > limit;
        return new Page<>(List.copyOf(hasMore ? rows.subList(0, limit) : rows), hasMore);
    }

    static void requireLimit(int limit) {
        InvalidParameterException.require(limit >= 1, "limit", "must be at least 1, was " + limit);
    }
}
