// Package migrations holds the SQL schemas of haulout's databases, embedded
// in the binary, one folder per engine: postgres/ for PostgreSQL (the
// publisher's shared job store) and sqlite/ for the embedded SQLite store
// that a single machine uses when no database URL is given.
//
// The files follow golang-migrate's naming, NNNN_title.up.sql and
// NNNN_title.down.sql, and are applied with golang-migrate (source/iofs) by
// the packages that own the tables (publisher/jobs). Both engines carry the
// same versions with the same meaning: version N describes one schema, written
// twice. A migration, once released, is never edited; change the schema with
// a new version in both folders.
//
// What it is not: this package runs nothing and imports no driver.
package migrations
