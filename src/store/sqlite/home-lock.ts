/**
 * One server per DROVER_HOME. The lock is a SQLite file held in exclusive locking mode: the
 * operating system releases it when the process ends in any way (kill -9 included), so a crash
 * never leaves a stale lock behind, unlike a pid file.
 */
import Database from "better-sqlite3";

export class HomeLockedError extends Error {}

export function lockHome(file: string): { release(): void } {
  const db = new Database(file);
  try {
    db.pragma("busy_timeout = 0");
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = MEMORY");
    // The lock is taken by the first write and kept until the connection closes.
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;");
    db.prepare("INSERT INTO holder (pid) VALUES (?)").run(process.pid);
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY") throw new HomeLockedError("another drover server is using this DROVER_HOME");
    throw error;
  }
  return { release: () => db.close() };
}
