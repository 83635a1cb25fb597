/**
 * Flyway's Java migrations, beside the SQL ones of {@code db/migration}: only those that must ask
 * the database what it is or what it named something. Nothing here is used by the service itself.
 */
package db.migration;
