// Runs a kernel the active backend lacks on a private instance of the pure-JS cpu backend, copying
// inputs over and the result back. Slow, so it is only used by the preflight to get past a missing
// kernel and discover the next one.
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

let cpu: MathBackendCPU | undefined;

function bridgeKernel(kernelName: string, backendName: string): tf.KernelConfig {
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (!cpuKernel) throw new Error(`no cpu kernel '${kernelName}' to bridge to`);
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const own = backend as tf.KernelBackend;
      cpu ??= new MathBackendCPU();
      const cpuInputs: tf.NamedTensorInfoMap = {};
      for (const [name, info] of Object.entries(inputs)) {
        if (info == null) continue;
        cpuInputs[name] = { dataId: cpu.write(own.readSync(info.dataId), info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
      }
      const out = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs });
      const outs = (Array.isArray(out) ? out : [out]).map((o) => {
        const info = { dataId: own.write(cpu!.readSync(o.dataId), o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
        cpu!.disposeData(o.dataId, true);
        return info;
      });
      for (const info of Object.values(cpuInputs)) cpu.disposeData(info!.dataId, true);
      return Array.isArray(out) ? outs : outs[0];
    },
  };
}

/** Registers cpu-bridged kernels for `backendName`; returns a function that removes them again. */
export function bridgeToCpu(kernelNames: string[], backendName: string): () => void {
  for (const name of kernelNames) tf.registerKernel(bridgeKernel(name, backendName));
  return () => kernelNames.forEach((name) => tf.unregisterKernel(name, backendName));
}
