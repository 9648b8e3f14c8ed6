// First-in-first-out queue of runs waiting for a slot under fastAdvprop.maxConcurrentRuns. Pure.
export class JobQueue<T extends { runDir: string }> {
  private items: T[] = [];

  enqueue(item: T): void {
    if (this.items.some((i) => i.runDir === item.runDir)) return;
    this.items.push(item);
  }

  remove(runDir: string): T | undefined {
    const i = this.items.findIndex((x) => x.runDir === runDir);
    return i < 0 ? undefined : this.items.splice(i, 1)[0];
  }

  has(runDir: string): boolean {
    return this.items.some((i) => i.runDir === runDir);
  }

  get size(): number {
    return this.items.length;
  }

  list(): readonly T[] {
    return this.items;
  }

  /**
   * Removes and returns the items that may start now, given `active` runs and a limit of `max`,
   * oldest first. `mayStart` (asked in order, once per item until the free slots are taken) keeps
   * an item waiting without giving its slot away: a sweep point over its sweep's own limit.
   */
  takeStartable(active: number, max: number, mayStart: (item: T) => boolean = () => true): T[] {
    let free = Math.max(0, Math.max(1, Math.floor(max)) - active);
    const taken: T[] = [];
    this.items = this.items.filter((item) => {
      if (free === 0 || !mayStart(item)) return true;
      free--;
      taken.push(item);
      return false;
    });
    return taken;
  }

  /** Drops the items `gone` says have left the queue elsewhere (claimed by another process, cancelled). */
  prune(gone: (item: T) => boolean): void {
    this.items = this.items.filter((i) => !gone(i));
  }
}

/** Whether a new start must wait: the limit is at least 1 whatever the setting says. */
export function mustQueue(active: number, max: number): boolean {
  return active >= Math.max(1, Math.floor(max || 1));
}
