// Typed GraphQL documents from the schema the BFF exports (`make web-schema`); no server runs at build time.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/operations/*.graphql"],
  // Documents are imported by name from src/gql/graphql.ts (tree-shaken per page), not through `graphql()`.
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", Upload: "File", ID: "string" },
      },
    },
  },
};

export default config;
