// Compiled mapping files (see mappings/README.md for the JSON format they come from).
import type { Tables, Template } from './template.js';

export type ModelOptions = Record<string, unknown>;

/** One model a mapping loads into. */
export interface MappingTarget {
  model: string;
  modelOptions: ModelOptions;
  tables: Tables;
}

/** How to read a model option off the checkpoint. */
export type InferRule =
  | { kind: 'candidates'; values: unknown[] }
  | { kind: 'fromSource'; pattern: RegExp; dim: number };

interface Conditional {
  /** Qualified `<mapping>/<id>`. */
  id: string;
  from: RegExp;
  ifTarget?: Template;
  unlessTarget?: Template;
}

export interface RenameRule extends Conditional {
  to: Template;
  /** '1x1': the dense parameters it names are 1x1 convolutions `[out, in, 1, 1]` in the checkpoint
   * (else Linear `[out, in]`); export writes them back in that shape. */
  kernel?: '1x1';
}

export interface IgnoreRule extends Conditional {
  reason: string;
}

export interface Include {
  mapping: Mapping;
  sourcePrefix: string;
  replaceWith: string;
  targetPrefix: string;
  /** Which of the included mapping's targets supplies its tables and options (by model name). */
  target?: string;
  /** Where the included mapping's options go in the model options (`undefined`: top level). */
  optionsKey?: string;
}

export interface Mapping {
  name: string;
  /** The file it was read from. */
  file: string;
  description: string;
  source?: string;
  targets: MappingTarget[];
  /** File-level tables and options (each target's already include them). */
  tables: Tables;
  modelOptions: ModelOptions;
  infer: Record<string, InferRule>;
  requires: RegExp[];
  forbids: RegExp[];
  ignore: IgnoreRule[];
  rules: RenameRule[];
  includes: Include[];
  /** The file's JSON, as read (written beside converted weights). */
  json: unknown;
}
