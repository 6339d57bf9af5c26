// Run settings: where outputs go (default work_dirs/<config name>), seed, backend, logging.
export default {
  customImports: [],
  seed: 0,
  // auto: tfjs-node-gpu → tfjs-node → wasm → cpu (see `torchport doctor`).
  backend: 'auto',
  logInterval: 10,
  checkpointInterval: 1,
  load_from: null,
  resume: false,
};
