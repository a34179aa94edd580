// The dashboard's build: everything bundled into dist/web (no CDN), served by the drover server at /.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: "/",
  build: { outDir: path.resolve(here, "../../dist/web"), emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 200 },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  logLevel: "warn",
});
