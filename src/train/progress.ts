// What the trainer shows while it runs: on a terminal, a one-line bar redrawn in place that fits
// its width, with a whole line left in the scrollback every `interval` iterations; plain lines
// every `interval` iterations otherwise (CI logs, pipes).

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

/** A loss term's name in the bar: `loss_objectness` → `obj`, `loss_rpn_box_reg` → `rpn_box`. */
export function shortTerm(name: string): string {
  return name.replace(/^loss_/, '').replace(/_reg$/, '').replace('objectness', 'obj').replace('classifier', 'cls');
}

/**
 * The bar's line, as long as `width` allows: the counter, loss, lr, it/s and ETA always, then as
 * many of the epoch, the bar, the loss terms and the grad norm as fit.
 */
export function formatBar(info: IterationInfo, width: number): string {
  const bar = (n: number) => {
    const filled = Math.round((n * info.iteration) / info.totalIterations);
    return `[${'#'.repeat(filled)}${'.'.repeat(n - filled)}] `;
  };
  const terms = Object.entries(info.terms).map(([k, v]) => `${shortTerm(k)} ${v.toPrecision(3)}`).join(' ');
  const line = (o: { bar?: number; count?: boolean; epoch?: boolean; terms?: boolean; grad?: boolean }) =>
    `${o.bar ? bar(o.bar) : ''}${o.count ? `${info.iteration}/${info.totalIterations} ` : ''}` +
    `${o.epoch ? `epoch ${info.epoch + 1}/${info.maxEpochs} ` : ''}loss ${fmt(info.loss)}${o.terms && terms ? ` (${terms})` : ''}` +
    ` lr ${info.lr.toExponential(2)}${o.grad && info.gradNorm !== undefined ? ` gn ${fmt(info.gradNorm)}` : ''}` +
    ` ${info.itersPerSecond.toFixed(2)} it/s ETA ${formatDuration(info.etaSeconds)}`;
  const candidates = [
    line({ bar: 20, count: true, epoch: true, terms: true, grad: true }),
    line({ bar: 20, count: true, epoch: true, terms: true }),
    line({ bar: 10, count: true, epoch: true, terms: true }),
    line({ count: true, epoch: true, terms: true }),
    line({ count: true, terms: true }),
    line({ bar: 10, count: true, epoch: true }),
    line({ count: true, epoch: true }),
    line({ count: true }),
    line({}),
  ];
  return candidates.find((c) => c.length <= width) ?? candidates[candidates.length - 1].slice(0, width);
}

/**
 * A bar redrawn in place on a terminal, fitted to its width; every `interval` iterations and at
 * the end of each epoch the whole iteration line stays in the scrollback.
 */
export function barProgress(stream: NodeJS.WriteStream, interval = 10): Progress {
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    iteration(info) {
      clear();
      if (info.iteration % interval === 0 || info.batch === info.batchesPerEpoch) stream.write(`${formatIteration(info)}\n`);
      // one column short of the width, so the cursor never wraps to a new line
      stream.write(formatBar(info, Math.max(20, (stream.columns ?? 80) - 1)));
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
  return stream.isTTY ? barProgress(stream, interval) : lineProgress((s) => stream.write(s), interval);
}
