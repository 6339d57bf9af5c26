// One forward+backward on the active backend before training, to list every kernel it lacks (not
// just the first: each missing kernel is bridged to the cpu backend for the rest of the run, then
// the step is retried) and every op tfjs has no gradient for.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { bridgeToCpu } from './cpu-bridge.js';
import { ensureGradients } from './gradients.js';

export interface PreflightReport {
  backend: string;
  /** True when the step ran with no missing kernel and no missing gradient. */
  ok: boolean;
  /** Kernels the step needs that the backend does not register, in the order met. */
  missingKernels: string[];
  /** Ops on the gradient path that tfjs defines no gradient for. */
  missingGradients: string[];
  /** The loss of the step (computed with cpu stand-ins where kernels were missing). */
  loss?: number;
  /** Any other failure, verbatim. */
  error?: string;
}

const MISSING_KERNEL = /Kernel '([^']+)' not registered for backend/;
const MISSING_GRADIENT = /gradient function not found for ([A-Za-z0-9_]+)/;

/**
 * One forward+backward. A step that throws half-way leaves behind the tensors the engine saved for
 * the backward pass (marked "kept", outside every scope), so the attempt records what the engine
 * keeps and frees those on failure; the rest is freed by the tidy. The loss is read asynchronously
 * (webgpu in Node cannot read synchronously).
 */
async function attempt(fn: () => tf.Scalar, vars: tf.Variable[]): Promise<number> {
  const engine = tf.engine();
  const keep = engine.keep;
  const kept: tf.Tensor[] = [];
  engine.keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(t);
    return keep.call(engine, t) as T;
  };
  let loss: tf.Tensor | undefined;
  try {
    loss = tf.tidy(() => tf.variableGrads(fn, vars).value);
    engine.keep = keep;
    return (await loss.data())[0];
  } catch (error) {
    for (const t of kept) if (!(t instanceof tf.Variable) && !t.isDisposed) t.dispose();
    throw error;
  } finally {
    engine.keep = keep;
    loss?.dispose();
  }
}

/**
 * Runs fn forward and backward w.r.t. vars once and reports what would stop training.
 * Variables are left unchanged; no tensors leak.
 */
export async function preflight(fn: () => tf.Scalar, vars: tf.Variable[]): Promise<PreflightReport> {
  await ensureGradients();
  const backend = tf.getBackend();
  const report: PreflightReport = { backend, ok: false, missingKernels: [], missingGradients: [] };
  const removers: Array<() => void> = [];
  try {
    for (;;) {
      try {
        report.loss = await attempt(fn, vars);
        break;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const kernel = MISSING_KERNEL.exec(message)?.[1];
        const gradient = MISSING_GRADIENT.exec(message)?.[1];
        if (kernel && !report.missingKernels.includes(kernel) && tf.getKernel(kernel, 'cpu')) {
          report.missingKernels.push(kernel);
          removers.push(bridgeToCpu([kernel], backend));
        } else if (kernel && !report.missingKernels.includes(kernel)) {
          report.missingKernels.push(kernel); // not even cpu has it: nothing to bridge, stop here
          break;
        } else if (gradient) {
          report.missingGradients.push(gradient);
          break;
        } else {
          report.error = message;
          break;
        }
      }
    }
  } finally {
    removers.forEach((remove) => remove());
  }
  report.ok = report.missingKernels.length === 0 && report.missingGradients.length === 0 && report.error === undefined;
  return report;
}

/** One line per problem, for the CLI. */
export function formatPreflight(report: PreflightReport): string {
  if (report.ok) return `preflight on ${report.backend}: ok (loss ${report.loss})`;
  const lines = [`preflight on ${report.backend}: training would fail`];
  for (const k of report.missingKernels) lines.push(`  missing kernel: ${k}`);
  for (const g of report.missingGradients) lines.push(`  no gradient defined for: ${g}`);
  if (report.error) lines.push(`  error: ${report.error}`);
  return lines.join('\n');
}
