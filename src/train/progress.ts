// What the trainer shows while it runs: a redrawn one-line bar on a terminal, plain lines every
// `interval` iterations otherwise (CI logs, pipes).

export interface IterationInfo {
  epoch: number;
  maxEpochs: number;
  /** 1-based index of the finished batch within its epoch. */
  batch: number;
  batchesPerEpoch: number;
  /** Global count of finished iterations. */
  iteration: number;
  totalIterations: number;
  lr: number;
  loss: number;
  terms: Record<string, number>;
  gradNorm?: number;
  itersPerSecond: number;
  etaSeconds: number;
}

export interface Progress {
  iteration(info: IterationInfo): void;
  /** A line of its own (evaluation results, checkpoint saved, warnings). */
  message(line: string): void;
  close(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2));

export function formatIteration(info: IterationInfo): string {
  const terms = Object.entries(info.terms).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  return (
    `epoch ${info.epoch + 1}/${info.maxEpochs} [${info.batch}/${info.batchesPerEpoch}] ` +
    `loss ${fmt(info.loss)}${terms ? ` (${terms})` : ''} lr ${info.lr.toExponential(3)}` +
    `${info.gradNorm !== undefined ? ` grad_norm ${fmt(info.gradNorm)}` : ''} ` +
    `${info.itersPerSecond.toFixed(2)} it/s ETA ${formatDuration(info.etaSeconds)}`
  );
}

/** Plain lines every `interval` iterations and at the end of each epoch. */
export function lineProgress(write: (s: string) => void, interval: number): Progress {
  return {
    iteration(info) {
      if (info.iteration % interval === 0 || info.batch === info.batchesPerEpoch) write(`${formatIteration(info)}\n`);
    },
    message: (line) => write(`${line}\n`),
    close() {},
  };
}

/** A bar redrawn in place on a terminal. */
export function barProgress(stream: NodeJS.WriteStream): Progress {
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    iteration(info) {
      const width = 20;
      const filled = Math.round((width * info.iteration) / info.totalIterations);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${info.iteration}/${info.totalIterations}`;
      const line = `${bar} ${formatIteration(info)}`;
      clear();
      stream.write(line.slice(0, Math.max(20, (stream.columns ?? 120) - 1)));
      drawn = true;
    },
    message(line) {
      clear();
      stream.write(`${line}\n`);
    },
    close: clear,
  };
}

/** The bar on a terminal, plain lines elsewhere. */
export function defaultProgress(stream: NodeJS.WriteStream = process.stderr, interval = 10): Progress {
  return stream.isTTY ? barProgress(stream) : lineProgress((s) => stream.write(s), interval);
}
