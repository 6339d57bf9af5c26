// The images a command is given: files as named, folders expanded to the PNG and JPEG files in
// them (sorted; sub-folders too with `recursive`). Each comes with the name its outputs take:
// the file name, or the path below the folder it was found in.
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';

export interface ImageFile {
  path: string;
  /** Where outputs for it go, relative to an output folder. */
  name: string;
}

const IMAGE = /\.(png|jpe?g)$/i;

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a missing file is reported when it is read, with the other unreadable images
  }
}

export function listImageFiles(paths: string[], recursive = false): ImageFile[] {
  const out: ImageFile[] = [];
  for (const path of paths) {
    if (!isFolder(path)) {
      out.push({ path, name: basename(path) });
      continue;
    }
    const names = (readdirSync(path, { recursive }) as string[]).filter((n) => IMAGE.test(n) && !isFolder(join(path, n))).sort();
    if (names.length === 0) {
      throw new InputError(`no PNG or JPEG images in this folder${recursive ? ' or below it' : ' (--recursive looks in its sub-folders too)'}`, path);
    }
    out.push(...names.map((name) => ({ path: join(path, name), name })));
  }
  return out;
}
