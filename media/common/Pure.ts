import { Component, type ComponentChildren } from 'preact';

/**
 * A component that re-renders only when a prop changed (shallow comparison): the views keep
 * unchanged data by reference, so a long queue re-renders only the cards that changed.
 */
export abstract class Pure<P extends object> extends Component<P> {
  override shouldComponentUpdate(next: P): boolean {
    const previous = this.props as Record<string, unknown>;
    const upcoming = next as Record<string, unknown>;
    for (const key of Object.keys(upcoming)) if (key !== 'children' && previous[key] !== upcoming[key]) return true;
    return Object.keys(previous).length !== Object.keys(upcoming).length;
  }
  abstract override render(): ComponentChildren;
}
