import { test } from "node:test";
import assert from "node:assert/strict";
import { actionName, requiredRole } from "./access.js";

test("audit action names: a service's action, a collection's verb, otherwise the path", () => {
  assert.equal(actionName("POST", "/api/v1/services/:name/scale"), "scale");
  assert.equal(actionName("POST", "/api/v1/services/:name/rollout/:action"), "rollout");
  assert.equal(actionName("DELETE", "/api/v1/services/:name"), "delete");
  assert.equal(actionName("POST", "/api/v1/tokens"), "token.create");
  assert.equal(actionName("DELETE", "/api/v1/tokens/:name"), "token.delete");
  assert.equal(actionName("PUT", "/api/v1/secrets/:name"), "secret.set");
  assert.equal(actionName("POST", "/api/v1/apply"), "apply");
  assert.equal(actionName("POST", "/api/v1/backup"), "backup");
  assert.equal(actionName("POST", "/api/v1/dashboard/codes"), "dashboard.codes");
});

test("roles per route: reads for viewers, changes for operators, administration for admins, the page and health for anyone", () => {
  assert.equal(requiredRole("GET", "/api/v1/services"), "viewer");
  assert.equal(requiredRole("POST", "/api/v1/plan"), "viewer");
  assert.equal(requiredRole("POST", "/api/v1/dashboard/codes"), "viewer");
  assert.equal(requiredRole("POST", "/api/v1/apply"), "operator");
  assert.equal(requiredRole("POST", "/api/v1/policies/test"), "viewer");
  assert.equal(requiredRole("GET", "/api/v1/audit/verify"), "admin");
  assert.equal(requiredRole("PUT", "/api/v1/secrets/:name"), "admin");
  assert.equal(requiredRole("GET", "/healthz"), null);
  assert.equal(requiredRole("GET", "/assets/*"), null);
  assert.equal(requiredRole("GET", "/metrics"), "viewer");
});
