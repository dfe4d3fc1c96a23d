// Small JSON state files in the data directory (saved channels, dashboard alert rules): read at start, rewritten
// atomically (temporary file + rename) so a crash never leaves half a file, writes one after the other so the
// file always holds the latest state. A damaged file is set aside, never overwritten by the next save.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export class JsonStateFile {
  private writing: Promise<void> = Promise.resolve();

  /** `file` null: nothing is read or written (state lives in memory). */
  constructor(readonly file: string | null) {}

  /** The parsed content; null when there is no file (or a damaged one, then `warning` says where it went). */
  read(): { value: unknown; warning: string | null } {
    if (!this.file) return { value: null, warning: null };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { value: null, warning: null };
      throw e;
    }
    try {
      return { value: JSON.parse(text) as unknown, warning: null };
    } catch (e) {
      const aside = `${this.file}.damaged-${Date.now()}`;
      renameSync(this.file, aside);
      return { value: null, warning: `${this.file} was unreadable (${(e as Error).message}); moved to ${aside}` };
    }
  }

  save(value: unknown): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const body = JSON.stringify(value, null, 2);
    this.writing = this.writing.catch(() => undefined).then(() => {
      writeFileSync(`${file}.tmp`, body);
      renameSync(`${file}.tmp`, file);
    });
    return this.writing;
  }
}
