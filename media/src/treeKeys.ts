// The keys of the panel's tree, as in VS Code's own trees: arrows move and open or close, Home and
// End, Enter or Space toggles, R reveals the plugin in Live Plugins.

/** What a key does to a row. */
export interface TreeActions {
  select(row: HTMLLIElement): void;
  /** Opens (true), closes (false) or toggles (undefined) a row with calls under it. */
  toggle(row: HTMLLIElement, expand?: boolean): void;
  reveal(row: HTMLLIElement): void;
}

/** Acts on a key pressed in the tree (`rows`: the visible rows in order); true when the key was the tree's. */
export function treeKey(key: string, rows: readonly HTMLLIElement[], current: HTMLLIElement | undefined, act: TreeActions): boolean {
  const i = current ? rows.indexOf(current) : -1;
  const go = (j: number) => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, j))];
    if (row) act.select(row);
  };
  switch (key) {
    case 'ArrowDown': go(i + 1); break;
    case 'ArrowUp': go(i - 1); break;
    case 'Home': go(0); break;
    case 'End': go(rows.length - 1); break;
    case 'ArrowRight':
      if (current?.getAttribute('aria-expanded') === 'false') act.toggle(current, true);
      else go(i + 1);
      break;
    case 'ArrowLeft':
      if (current?.getAttribute('aria-expanded') === 'true') act.toggle(current, false);
      else {
        const parent = current?.parentElement?.closest('li[role="treeitem"]');
        if (parent instanceof HTMLLIElement) act.select(parent);
      }
      break;
    case 'Enter':
    case ' ':
      if (current) act.toggle(current);
      break;
    case 'r':
    case 'R':
      if (current) act.reveal(current);
      break;
    default:
      return false;
  }
  return true;
}
