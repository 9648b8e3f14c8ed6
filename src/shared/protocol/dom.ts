// The only way the webviews build markup. Strings always become text nodes, attributes go through
// setAttribute with an allow-list, styles through the CSSOM, so a run called
// `<img src=x onerror=alert(1)>` shows as that text. It is typed against a minimal document
// interface so unit tests can drive it with a fake document instead of a browser.

export interface MiniStyle {
  setProperty(name: string, value: string): void;
}

export interface MiniNode {
  readonly nodeType?: number;
}

export interface MiniElement extends MiniNode {
  appendChild(child: MiniNode): unknown;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: (ev: unknown) => void): void;
  readonly style: MiniStyle;
}

export interface MiniDocument<E extends MiniElement = MiniElement> {
  createElement(tag: string): E;
  createTextNode(text: string): MiniNode;
}

export type Child = MiniNode | string | number | null | undefined | false | readonly Child[];

export interface Props {
  class?: string;
  title?: string;
  /** Plain attributes; event-handler and style attributes are refused (CSP forbids them anyway). */
  attrs?: Record<string, string | number | boolean | undefined>;
  style?: Record<string, string | undefined>;
  on?: Record<string, (ev: never) => void>;
}

/** Attributes that could carry script or a remote URL; only data:image URLs are allowed for src. */
const URL_ATTRS = new Set(['src', 'href', 'xlink:href', 'action', 'formaction', 'srcset', 'poster']);
const SAFE_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$/;

export function isSafeAttribute(name: string, value: string): boolean {
  const n = name.toLowerCase();
  if (!/^[a-z][a-z0-9_:.-]*$/.test(n)) return false;
  if (n.startsWith('on') || n === 'style' || n === 'srcdoc') return false;
  if (URL_ATTRS.has(n)) return n === 'src' && SAFE_IMAGE.test(value);
  return true;
}

export function createH<E extends MiniElement>(doc: MiniDocument<E>) {
  function append(el: E, child: Child): void {
    if (child === null || child === undefined || child === false) return;
    if (typeof child === 'string' || typeof child === 'number') el.appendChild(doc.createTextNode(String(child)));
    else if (Array.isArray(child)) for (const c of child as readonly Child[]) append(el, c);
    else el.appendChild(child as MiniNode);
  }
  return function h(tag: string, props?: Props | null, ...children: Child[]): E {
    const el = doc.createElement(tag);
    if (props) {
      if (props.class) el.setAttribute('class', props.class);
      if (props.title !== undefined) el.setAttribute('title', props.title);
      for (const [k, v] of Object.entries(props.attrs ?? {})) {
        if (v === undefined || v === false) continue;
        const value = v === true ? '' : String(v);
        if (!isSafeAttribute(k, value)) throw new Error(`refusing attribute "${k}"`);
        el.setAttribute(k, value);
      }
      for (const [k, v] of Object.entries(props.style ?? {})) if (v !== undefined) el.style.setProperty(k, v);
      for (const [k, fn] of Object.entries(props.on ?? {})) el.addEventListener(k, fn as (ev: unknown) => void);
    }
    for (const c of children) append(el, c);
    return el;
  };
}

export type H<E extends MiniElement = MiniElement> = (tag: string, props?: Props | null, ...children: Child[]) => E;
