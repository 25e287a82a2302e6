/* @jsxRuntime automatic @jsxImportSource preact */
import type { JSX } from 'preact';
import { splitHidden } from './hiddenCharacters';

/**
 * Text that came from the agent (or anyone outside Warden): always rendered as text nodes,
 * with invisible and bidirectional characters shown as U+XXXX markers. Every webview shows
 * agent text through this one component.
 */
export function AgentText({ text }: { text: string }): JSX.Element {
  const pieces = splitHidden(text);
  if (pieces.length === 1 && 'text' in pieces[0]!) return <>{pieces[0].text}</>;
  return (
    <>
      {pieces.map((piece, i) =>
        'text' in piece ? (
          piece.text
        ) : (
          <span key={i} class={piece.cr ? 'hidden-char cr' : 'hidden-char'} title={piece.title}>
            {piece.marker}
          </span>
        ),
      )}
    </>
  );
}

/** The warning a view shows above content with hidden characters. */
export function HiddenCharactersWarning({ what }: { what: string }): JSX.Element {
  return (
    <div class="callout warning" role="note">
      {`${what} contains invisible or bidirectional control characters (shown as U+XXXX markers). They can make text read differently from what it does; check them before accepting.`}
    </div>
  );
}
