/** The rollouts tests again, each server on a PostgreSQL database of its own (its own node joining over a cluster port). */
process.env.DROVER_TEST_STORE = "postgres";
await import("../rollouts.test.js");
