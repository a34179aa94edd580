/** Managed databases: list and backups (viewer); a backup now (operator); restore and the connection for psql (admin). */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ControlPlane } from "../server/control-plane.js";
import { Databases } from "../server/databases.js";
import { parseWith } from "./parse.js";

const restoreSchema = z.strictObject({ file: z.string().min(1, { error: "name a backup (drover db backups lists them) or a path on the server's machine" }), database: z.string().min(1).optional() });

export function registerDatabaseRoutes(app: FastifyInstance, controlPlane: ControlPlane, home: string): void {
  const databases = new Databases(controlPlane, home);

  app.get("/api/v1/databases", async () => ({ databases: await databases.views() }));

  app.get<{ Params: { name: string } }>("/api/v1/databases/:name", async (request) => databases.view(request.params.name));

  app.get<{ Params: { name: string } }>("/api/v1/databases/:name/backups", async (request) => ({
    backups: (await databases.listBackupFiles(request.params.name)).map((b) => ({ database: b.database, file: b.file, at: b.at, bytes: b.bytes })),
  }));

  app.post<{ Params: { name: string } }>("/api/v1/databases/:name/backups", async (request) => {
    const run = await databases.backupNow(request.params.name, request.actor?.name ?? "a user");
    request.audit = { object: `database ${request.params.name}`, summary: "backup" };
    return { run };
  });

  app.post<{ Params: { name: string } }>("/api/v1/databases/:name/restore", async (request) => {
    const { file, database } = parseWith(restoreSchema, request.body);
    const restored = await databases.restore(request.params.name, file, database, request.actor?.name ?? "a user");
    request.audit = { object: `database ${request.params.name}`, summary: `restore ${restored.database}` };
    return restored;
  });

  app.get<{ Params: { name: string }; Querystring: { database?: string; superuser?: string } }>("/api/v1/databases/:name/connection", async (request) => ({
    url: await databases.connection(request.params.name, request.query.database, request.query.superuser === "1"),
  }));
}
