// The portal (index.html) and the API explorer (graphiql.html), built into dist/ for the BFF to serve.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** A `.gz` twin of every compressible output file, which the BFF serves to browsers accepting gzip. */
function gzipTwins(): Plugin {
  let outDir = "dist";
  return {
    name: "gzip-twins",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg|json)$/.test(name)) continue;
        const path = join(outDir, name);
        const zipped = gzipSync(readFileSync(path), { level: 9 });
        writeFileSync(`${path}.gz`, zipped);
      }
    },
  };
}

// `npm run dev` serves the portal with hot reload against a running BFF (`make up`).
const bff = process.env.BFF_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), gzipTwins()],
  build: {
    target: "es2022",
    modulePreload: { polyfill: false },
    // GraphiQL is one large chunk, loaded only by the API explorer page.
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: { portal: "index.html", graphiql: "graphiql.html" },
      // React in a chunk of its own, named so: shared by the portal and the explorer, cached across builds.
      output: {
        manualChunks: (id) => (/node_modules\/(react|react-dom|scheduler)\//.test(id) ? "react" : undefined),
      },
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return; // GraphiQL's "use no memo"
        warn(warning);
      },
    },
  },
  server: {
    proxy: { "/graphql": { target: bff, ws: true }, "/api": bff },
  },
});
