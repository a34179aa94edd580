/** Failure injection on the local provider: the table of cases in pool-failure-cases.ts. */
import { failureSuite } from "./pool-failure-cases.js";

failureSuite("local");
