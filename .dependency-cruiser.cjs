// The layers of secmem, as rules that CI checks (`npm run check:layers`).
// Imports point down only:
//   ffi  <-  src/core  <-  src/input  <-  src/*.ts (the class)  <-
//   src/pool, src/doctor  <-  src/crypto (the cipher core and the crypto
//   functions)  <-  src/keys (Ed25519, X25519)  <-  src/enclave  <-  the
//   entries (*.ts at the root)
// Type-only imports count: a type that points up is still a circle to read.
const layer = (name, path) => ({ name, path });
const layers = [
  layer("ffi", "^ffi/"),
  layer("core", "^src/core/"),
  layer("input", "^src/input/"),
  layer("class", "^src/[^/]+\\.ts$"),
  layer("wings", "^src/(pool|doctor)/"),
  layer("crypto", "^src/crypto/"),
  layer("keys", "^src/keys/"),
  layer("enclave", "^src/enclave/"),
  layer("agent", "^src/agent/"),
  layer("entries", "^[^/]+\\.ts$"),
];

// A module may import its own layer and the layers below it, nothing above.
const upward = layers.slice(0, -1).map((from, index) => ({
  name: `no-upward-from-${from.name}`,
  comment: `${from.name} must not import a layer above it`,
  severity: "error",
  from: { path: from.path },
  to: {
    path: layers.slice(index + 1).map((above) => above.path),
    // The one exception: ffi/ throws the library's own error type.
    ...(from.name === "ffi" ? { pathNot: "^src/core/errors\\.ts$" } : {}),
  },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import circles, type-only imports included",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "ffi-imports-only-errors",
      comment:
        "ffi/ implements the native contract and imports nothing from src/ but the error type",
      severity: "error",
      from: { path: "^ffi/" },
      to: { path: "^src/", pathNot: "^src/core/errors\\.ts$" },
    },
    {
      name: "pool-and-doctor-apart",
      comment:
        "The pool and the doctor are two wings on the same floor: neither needs the other",
      severity: "error",
      from: { path: "^src/pool/" },
      to: { path: "^src/doctor/" },
    },
    {
      name: "doctor-and-pool-apart",
      comment:
        "The pool and the doctor are two wings on the same floor: neither needs the other",
      severity: "error",
      from: { path: "^src/doctor/" },
      to: { path: "^src/pool/" },
    },
    {
      name: "enclave-beside-keys",
      comment:
        "The Enclave needs no asymmetric key: keep src/enclave off src/keys so the two stay separable",
      severity: "error",
      from: { path: "^src/enclave/" },
      to: { path: "^src/keys/" },
    },
    {
      name: "agent-client-without-ffi",
      comment:
        "The agent's client runs in apps without FFI (a Deno sandbox): nothing it loads may reach ffi/",
      severity: "error",
      from: { path: "^(agent_client\\.ts|src/agent/(client|_protocol)\\.ts)$" },
      to: { path: "^ffi/", reachable: true },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|tests|bench|npm-build|examples)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
  },
};
