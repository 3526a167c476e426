/**
 * The mesh token, for dashboards opened from another machine: the daemon wants it
 * on every API call from a non-loopback address. Open the page once as
 * `http://HOST:8765/#token=…` (or `?token=…`); the token is kept in this tab's
 * sessionStorage and removed from the address bar, so it is not bookmarked or
 * shared by copying the URL. On loopback no token is needed.
 */
const KEY = 'clare.token';

let cached: string | null | undefined;

/** Takes the token out of the address (`?token=`, `#token=` or `#/view?token=`), keeping the rest. */
function fromLocation(): string | null {
  const query = new URLSearchParams(window.location.search);
  const h = window.location.hash.slice(1);
  const q = h.indexOf('?');
  const bare = q < 0 && h.startsWith('token=');
  const route = bare ? '' : q < 0 ? h : h.slice(0, q);
  const hashParams = new URLSearchParams(bare ? h : q < 0 ? '' : h.slice(q + 1));
  const t = hashParams.get('token') ?? query.get('token');
  if (t === null || t === '') return null;
  query.delete('token');
  hashParams.delete('token');
  const search = query.toString();
  const hp = hashParams.toString();
  const hash = `${route}${hp === '' ? '' : `?${hp}`}`;
  history.replaceState(null, '', `${window.location.pathname}${search === '' ? '' : `?${search}`}${hash === '' ? '' : `#${hash}`}`);
  return t;
}

/** The token to send, or null when none was given (loopback use). */
export function authToken(): string | null {
  if (cached !== undefined) return cached;
  const given = fromLocation();
  if (given !== null) {
    try {
      sessionStorage.setItem(KEY, given);
    } catch {
      // Storage can be disabled; the token then lives for this page load only.
    }
    cached = given;
    return given;
  }
  try {
    cached = sessionStorage.getItem(KEY);
  } catch {
    cached = null;
  }
  return cached;
}
