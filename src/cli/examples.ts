// Examples for a command's --help: `torchport ...  # what it does`, commands padded to one column.
// yargs' two-column example table wraps long commands mid-word, so each example is one line.
import type { Argv } from 'yargs';

export function withExamples<T>(y: Argv<T>, examples: Array<[command: string, what: string]>): Argv<T> {
  const width = Math.max(...examples.map(([command]) => command.length));
  return examples.reduce((acc, [command, what]) => acc.example(`torchport ${command.padEnd(width)}  # ${what}`, ''), y);
}
