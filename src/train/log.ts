// The JSON-lines training log in the work dir: one object per line (iterations, evaluations,
// events), appended so a resumed run continues the same file.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type LogRecord = { mode: 'train' | 'val' | 'event' } & Record<string, unknown>;

export class JsonLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: LogRecord): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }
}
