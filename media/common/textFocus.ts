/**
 * While the user types in a text field, single-key keybindings (a, r, j...) must stand down:
 * reports `true` when a text field gets the focus and `false` when it loses it.
 */
export function isTextField(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLTextAreaElement || (target instanceof HTMLInputElement && !['checkbox', 'radio', 'button'].includes(target.type))
  );
}

export function trackTextFocus(report: (editing: boolean) => void, doc: Document = document): () => void {
  let editing = false;
  const set = (value: boolean): void => {
    if (value === editing) return;
    editing = value;
    report(value);
  };
  const onIn = (event: FocusEvent): void => set(isTextField(event.target));
  const onOut = (event: FocusEvent): void => {
    if (isTextField(event.target) && !isTextField(event.relatedTarget)) set(false);
  };
  const onBlur = (): void => set(false);
  doc.addEventListener('focusin', onIn);
  doc.addEventListener('focusout', onOut);
  doc.defaultView?.addEventListener('blur', onBlur);
  return () => {
    doc.removeEventListener('focusin', onIn);
    doc.removeEventListener('focusout', onOut);
    doc.defaultView?.removeEventListener('blur', onBlur);
  };
}
