import { test } from "node:test";
import assert from "node:assert/strict";
import { loadDescriptors } from "./index.js";

const database = (spec: string) => `apiVersion: drover/v1\nkind: Database\nmetadata: {name: shopdb, namespace: shop}\nspec: {port: 6543, ${spec}}\n`;
const serviceOf = (spec: string) => loadDescriptors([{ file: "t.yaml", text: database(spec), baseDir: "/srv" }]).services[0]!;

test("a Database on the process runtime: drover's replica program on the volume, converged before ready, a long first start allowed", () => {
  const { spec } = serviceOf("version: 15");
  assert.deepEqual(spec.command, ["drover:postgres-replica"]);
  assert.equal(spec.runtime, "process");
  assert.equal(spec.stateful, true);
  assert.deepEqual(spec.volumes, [{ name: "data" }]);
  assert.equal(spec.networking.ports[0]!.target_port, undefined, "a process listens where drover says");
  assert.equal(spec.health_checks.startup_probe!.period * spec.health_checks.startup_probe!.failure_threshold, 600_000);
  assert.equal(spec.configuration.environment.DROVER_PG_VERSION, "15");
});

test("a Database on docker: the image's port 5432 behind the service port, PGDATA on the volume, roles made without a password on any command line", () => {
  const { spec } = serviceOf("runtime: docker, storage: {size: 1Gi}, databases: [{name: shop}, {name: audit, owner: auditor}]");
  assert.equal(spec.runtime, "docker");
  assert.deepEqual(spec.image, { repository: "postgres", tag: "17", pull_policy: "IfNotPresent" });
  assert.deepEqual(spec.networking.ports.map((p) => [p.port, p.target_port]), [[6543, 5432]]);
  assert.deepEqual(spec.volumes, [{ name: "data", mount_path: "/var/lib/postgresql/data", size: 1024 ** 3 }]);
  assert.equal(spec.configuration.environment.PGDATA, "/var/lib/postgresql/data/pgdata");
  assert.deepEqual(spec.configuration.secrets, [{ name: "shopdb-credentials" }]);
  const script = spec.command!.at(-1)!;
  assert.match(script, /ALTER ROLE "shopdb" WITH LOGIN PASSWORD :'pw_0';/);
  assert.match(script, /\\set pw_1 `printf '%s' "\$AUDITOR_PASSWORD"`/);
  assert.match(script, /SELECT 'CREATE DATABASE "audit" OWNER "auditor"' WHERE NOT EXISTS \(SELECT 1 FROM pg_database WHERE datname = 'audit'\)\\gexec/);
  assert.deepEqual(spec.health_checks.readiness_probe!.exec!.command, ["test", "-f", "/tmp/drover-converged"]);
  assert.equal(serviceOf("runtime: docker, version: 16").spec.image!.tag, "16");
  assert.deepEqual(serviceOf("runtime: docker, image: {repository: registry.example/pg, tag: 16-alpine}").spec.image, { repository: "registry.example/pg", tag: "16-alpine", pull_policy: "IfNotPresent" });
});
