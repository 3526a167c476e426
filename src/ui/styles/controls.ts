/** Buttons, form fields, badges and focus rings shared by the elements. */
import { css } from 'lit';

export const controls = css`
  :host {
    font-family: var(--font);
    color: var(--text);
  }
  *, *::before, *::after {
    box-sizing: border-box;
  }
  button, input, select, textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--border);
    background: var(--surface);
    border-radius: 6px;
    padding: 0.3rem 0.65rem;
    min-height: 2rem;
    line-height: 1.2;
  }
  button:hover:not(:disabled) {
    background: var(--surface-2);
  }
  button.primary {
    background: var(--accent);
    color: var(--accent-text);
    border-color: var(--accent);
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) {
    filter: brightness(1.08);
    background: var(--accent);
  }
  button.link {
    border: none;
    background: none;
    padding: 0.1rem 0.2rem;
    min-height: auto;
    color: var(--accent);
    text-decoration: underline;
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  input, select, textarea {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 0.35rem 0.5rem;
    min-height: 2rem;
    max-width: 100%;
  }
  textarea {
    resize: vertical;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 0.2rem;
    font-size: 0.85rem;
    color: var(--muted);
  }
  label > input, label > select, label > textarea {
    color: var(--text);
    font-size: 1rem;
  }
  :focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    gap: 0.25rem;
    border-radius: 999px;
    padding: 0.05rem 0.5rem;
    font-size: 0.78rem;
    font-weight: 600;
    white-space: nowrap;
    border: 1px solid transparent;
  }
  .ok { color: var(--ok); background: var(--ok-soft); }
  .warn { color: var(--warn); background: var(--warn-soft); }
  .bad { color: var(--bad); background: var(--bad-soft); }
  .info { color: var(--info); background: var(--info-soft); }
  .neutral { color: var(--muted); background: var(--surface-2); }
  .muted { color: var(--muted); }
  .mono { font-family: var(--mono); font-size: 0.85em; }
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .error-text {
    color: var(--bad);
  }
  h2, h3, h4 {
    margin: 0;
  }
  @media (prefers-reduced-motion: no-preference) {
    .flash {
      animation: flash 1.2s ease-out;
    }
    @keyframes flash {
      from { box-shadow: 0 0 0 3px var(--accent); }
      to { box-shadow: var(--shadow); }
    }
  }
`;

/** The frame every modal <dialog> shares; each dialog sets its own width. */
export const dialogFrame = css`
  dialog {
    border: 1px solid var(--border);
    border-radius: var(--radius);
    background: var(--surface);
    color: var(--text);
    padding: 0;
  }
  dialog::backdrop {
    background: rgb(0 0 0 / 0.45);
  }
`;
