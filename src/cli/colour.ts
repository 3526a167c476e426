/**
 * Colour for people at a terminal, never for scripts: on when stdout is a TTY
 * (and TERM is not "dumb"), off when NO_COLOR is set to anything non-empty
 * (no-color.org), forced on by FORCE_COLOR (any value but "0"/"false", as Node and
 * chalk read it) even when piped. --json output is never painted: only the
 * table/text printers call paint().
 */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const SGR: Readonly<Record<Style, readonly [number, number]>> = {
  bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39],
};

/** Whether output to `stream` is painted, by the rules above. */
export function colourWanted(stream: { readonly isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

let stdoutColour: boolean | undefined;

/** `text` in `style` when stdout is painted (decided once per process), else as it is. */
export function paint(text: string, style: Style | undefined): string {
  stdoutColour ??= colourWanted();
  if (style === undefined || !stdoutColour || text === '') return text;
  const [on, off] = SGR[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** The colour a task or session state is shown in: what needs a person stands out. */
export function stateStyle(state: string): Style | undefined {
  if (state.startsWith('waiting') && !state.startsWith('waiting(')) return 'yellow'; // a session waiting for input
  if (state.startsWith('blocked') || state === 'FAULTY' || state.startsWith('down')) return 'red';
  if (state.startsWith('in_progress') || state.startsWith('working') || state.startsWith('up')) return 'green';
  if (state === 'done' || state === 'archived') return 'dim';
  return undefined;
}
