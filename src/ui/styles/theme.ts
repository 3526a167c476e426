/**
 * Colours and sizes as custom properties, set once on the app shell and inherited
 * through every shadow root. Light and dark follow prefers-color-scheme; contrast
 * of text on its surfaces is at least 4.5:1 in both.
 */
import { css } from 'lit';

export const theme = css`
  :host {
    color-scheme: light dark;
    --bg: #f4f5f7;
    --surface: #ffffff;
    --surface-2: #eceef2;
    --text: #1a1c20;
    --muted: #545b66;
    --border: #cfd4dc;
    --accent: #1f4fbf;
    --accent-text: #ffffff;
    --accent-soft: #e3eafb;
    --ok: #17703a;
    --ok-soft: #dcf2e4;
    --warn: #8a4b00;
    --warn-soft: #fbecd6;
    --bad: #b42318;
    --bad-soft: #fde4e1;
    --info: #5a36b8;
    --info-soft: #ece6fb;
    --focus: #1f4fbf;
    --shadow: 0 1px 2px rgb(0 0 0 / 0.08);
    --radius: 8px;
    --font: system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif;
    --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --bg: #101216;
      --surface: #191c22;
      --surface-2: #232730;
      --text: #e8eaee;
      --muted: #a4abb7;
      --border: #363c47;
      --accent: #8fb0ff;
      --accent-text: #0d1220;
      --accent-soft: #1e2a47;
      --ok: #6fd495;
      --ok-soft: #16311f;
      --warn: #f0b45c;
      --warn-soft: #3a2a12;
      --bad: #ff8a80;
      --bad-soft: #3d1a18;
      --info: #c1a8ff;
      --info-soft: #2a2142;
      --focus: #8fb0ff;
      --shadow: 0 1px 2px rgb(0 0 0 / 0.4);
    }
  }
`;
