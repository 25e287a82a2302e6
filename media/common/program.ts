import { render, type VNode } from 'preact';

/**
 * The loop every Warden webview runs: a pure `update(state, action)` returns the next state
 * and the effects to run (messages to post, focus to move); `view(state, dispatch)` describes
 * the page, rendered synchronously by Preact, so an action is on screen when `dispatch` returns.
 */
export interface Step<S, E> {
  state: S;
  effects?: E[];
}

export interface Program<S, A, E> {
  init: S;
  update(state: S, action: A): Step<S, E>;
  view(state: S, dispatch: (action: A) => void): VNode;
  /** Runs after the render that follows the update that asked for them. */
  run(effect: E, dispatch: (action: A) => void): void;
  /** Before and after each render (focus restoration, observers). */
  beforeRender?(state: S): void;
  afterRender?(state: S): void;
}

export interface Running<S, A> {
  dispatch(action: A): void;
  /** Several actions, one render: each is applied in order, the page drawn once, then their effects run. */
  dispatchAll(actions: readonly A[]): void;
  state(): S;
}

export function mount<S, A, E>(root: Element, program: Program<S, A, E>): Running<S, A> {
  let state = program.init;
  let rendering = false;
  let first = true;
  const queue: A[] = [];
  const drain = (): void => {
    if (rendering) return; // an effect dispatched: handled once this round is over
    rendering = true;
    try {
      while (queue.length > 0) {
        // Every action waiting is applied before the one render (a burst of messages draws once).
        const effects: E[] = [];
        let changed = false;
        while (queue.length > 0) {
          const step = program.update(state, queue.shift() as A);
          changed ||= step.state !== state;
          state = step.state;
          if (step.effects) effects.push(...step.effects);
        }
        if (changed) {
          if (first) {
            // The shell's "Loading…" placeholder goes; Preact owns the container from here on.
            first = false;
            root.replaceChildren();
            root.removeAttribute('aria-busy');
          }
          program.beforeRender?.(state);
          render(program.view(state, dispatch), root);
          program.afterRender?.(state);
        }
        for (const effect of effects) program.run(effect, dispatch);
      }
    } finally {
      rendering = false;
    }
  };
  const dispatch = (action: A): void => {
    queue.push(action);
    drain();
  };
  const dispatchAll = (actions: readonly A[]): void => {
    queue.push(...actions);
    drain();
  };
  return { dispatch, dispatchAll, state: () => state };
}
