/** The backup tests again on PostgreSQL: a backup of a PostgreSQL store restored into another (restore --store, from DROVER_STORE). */
process.env.DROVER_TEST_STORE = "postgres";
await import("../backup.test.js");
