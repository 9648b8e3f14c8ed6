import { createH, type Child, type Props } from '../../src/shared/protocol/dom';

export type { Child, Props };

/** Element builder bound to the page's document; see src/shared/protocol/dom.ts for the rules. */
export const h = createH<HTMLElement>(document);

export function clear(el: Element): void {
  el.replaceChildren();
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}
