import { readFile } from 'node:fs/promises';

/** A JSON file a test wrote or means to tamper with, read as the type the test says it is (not validated). */
export async function readJsonAs<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}
