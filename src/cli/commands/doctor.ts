// `torchport doctor`: which TF.js backends are installed and usable, which one `auto` picks, why
// tfjs-node-gpu is not usable (missing package, failed libtensorflow download, CUDA/cuDNN not on
// the loader path) and how to install it without network access, and which WebGPU adapter runs.
import type { CommandModule } from 'yargs';
import type { BackendStatus } from '../../backend/status.js';
import { paint } from '../colour.js';
import { withExamples } from '../examples.js';

interface DoctorArgs {
  json?: boolean;
  probe?: boolean;
}

/** How to make tfjs-node-gpu work offline, for the reason it does not work now. */
export function offlineInstallAdvice(gpu: BackendStatus): string[] {
  const lines = ['How to install @tensorflow/tfjs-node-gpu without network access:'];
  if (gpu.reason === 'cuda-libs-missing') {
    lines.push(
      '  The package and libtensorflow are in place; the GPU libraries are not. Install the CUDA toolkit and cuDNN',
      '  versions this tfjs-node-gpu was built for (tfjs-node-gpu 4.x: CUDA 11.2, cuDNN 8.1) and add their lib folders',
      '  to LD_LIBRARY_PATH (e.g. export LD_LIBRARY_PATH=/usr/local/cuda/lib64:$LD_LIBRARY_PATH), then run doctor again.',
    );
    return lines;
  }
  lines.push(
    '  Its install script downloads libtensorflow (and a prebuilt binding), which fails offline. Either:',
    '  1. On a machine with network access, the same OS, CPU architecture and Node major version, run',
    '       npm install @tensorflow/tfjs-node-gpu@4.22.0',
    '     and copy its node_modules/@tensorflow/tfjs-node-gpu folder (it holds deps/lib/libtensorflow*.so and',
    '     lib/napi-v*/tfjs_binding.node) into this project\'s node_modules/@tensorflow/; or',
    '  2. Mirror the files it downloads (from https://storage.googleapis.com/: tensorflow/libtensorflow/... and',
    '     tf-builds/pre-built-binary/...) on a local web server and install with',
    '       TFJS_NODE_CDN_STORAGE=http://your-mirror/ npm install @tensorflow/tfjs-node-gpu@4.22.0',
    '     (TFJS_NODE_BASE_URI overrides the libtensorflow location alone).',
    '  tfjs-node-gpu also needs the NVIDIA driver, CUDA 11.2 and cuDNN 8.1 on the loader path.',
    '  Without it torchport runs on wasm (SIMD), which needs nothing extra.',
  );
  return lines;
}

/** A status's detail without the package and version its line already shows. */
function detailOf(s: BackendStatus): string {
  let detail = s.detail;
  for (const shown of [s.package, s.version]) {
    if (shown && detail.startsWith(shown)) detail = detail.slice(shown.length).replace(/^:?\s*/, '');
  }
  return detail === 'is not installed' ? 'not installed' : detail;
}

/** One line per backend, each fact once (a second line only for the WebGPU adapter auto skips). */
function render(statuses: BackendStatus[]): string {
  const { green, red } = paint(process.stdout);
  const lines = ['TF.js backends, in the order `--backend auto` tries them:'];
  for (const s of statuses) {
    const head = `  ${s.usable ? green('usable  ') : red('unusable')}  ${s.backend.padEnd(10)} ${s.package}${s.version ? ` ${s.version}` : ''}`;
    const detail = detailOf(s);
    if (!s.usable) lines.push(`${head} (${detail})`);
    else if (s.autoSkips) lines.push(`${head} (auto skips it: ${s.autoSkips})`, `            ${detail}`);
    else lines.push(detail ? `${head} ${detail}` : head);
  }
  const chosen = statuses.find((s) => s.usable && !s.autoSkips);
  lines.push('', chosen ? `auto picks: ${chosen.backend} (${chosen.package})` : 'no usable backend: reinstall torchport (npm ci)');
  const gpu = statuses.find((s) => s.package === '@tensorflow/tfjs-node-gpu');
  if (gpu && !gpu.usable) lines.push('', ...offlineInstallAdvice(gpu));
  return lines.join('\n');
}

const command: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'show which TF.js backends are installed and usable, the WebGPU adapter, and how to get tfjs-node-gpu working offline',
  builder: (y) =>
    withExamples(y, [
      ['doctor', 'which backends are usable, and why not'],
      ['doctor --probe --json', 'also load the native bindings; as JSON'],
    ])
      .option('json', { type: 'boolean', describe: 'print the backend statuses as JSON' })
      .option('probe', { type: 'boolean', describe: 'also load the native bindings and ask TensorFlow for a GPU device (slower; catches broken installs)' }),
  handler: async (argv) => {
    const { backendStatus } = await import('../../backend/status.js');
    const statuses = await backendStatus({ probe: argv.probe ?? false });
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${render(statuses)}\n`);
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
