/** A minimal typed event emitter, so the core needs neither `vscode` nor Node's untyped EventEmitter. */
export type Listener<T> = (value: T) => void;

export interface Subscription {
  dispose(): void;
}

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  readonly event = (listener: Listener<T>): Subscription => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch {
        // A faulty listener must not stop the others (or the session) from hearing the event.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
