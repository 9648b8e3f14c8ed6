// Our controls, and the only module that knows they are @vscode/webview-ui-toolkit elements
// (deprecated upstream). Replacing the component set means rewriting this file alone; pages
// depend on these functions and the HTMLElements they return.

import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { h } from './h';

provideVSCodeDesignSystem().register(
  vsCodeBadge(), vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTextField(),
);

export function button(label: string, onClick: () => void, opts: { appearance?: 'primary' | 'secondary'; title?: string; id?: string } = {}): HTMLElement {
  return h('vscode-button', { title: opts.title, attrs: { appearance: opts.appearance ?? 'secondary', id: opts.id }, on: { click: () => onClick() } }, label);
}

export interface Option {
  value: string;
  label: string;
  /** Shown on hover, e.g. the full name behind a short label. */
  title?: string;
}

export function dropdown(options: readonly Option[], value: string, onChange: (value: string) => void, opts: { id?: string; title?: string } = {}): HTMLElement {
  const el = h('vscode-dropdown', { title: opts.title, attrs: { id: opts.id } },
    options.map((o) => h('vscode-option', { title: o.title, attrs: { value: o.value, selected: o.value === value } }, o.label)));
  el.addEventListener('change', () => onChange((el as unknown as { value: string }).value));
  // The toolkit's dropdown ignores `selected` on options it has not upgraded yet; set the value
  // once the element is defined and has read its options.
  void customElements.whenDefined('vscode-dropdown').then(() => requestAnimationFrame(() => {
    (el as unknown as { value: string }).value = value;
  }));
  return el;
}

export function textField(value: string, onChange: (value: string) => void, opts: { label?: string; placeholder?: string; id?: string; size?: number } = {}): HTMLElement {
  const el = h('vscode-text-field', { attrs: { value, placeholder: opts.placeholder, id: opts.id, size: opts.size } }, opts.label ?? '');
  el.addEventListener('input', () => onChange((el as unknown as { value: string }).value));
  return el;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, opts: { id?: string } = {}): HTMLElement {
  const el = h('vscode-checkbox', { attrs: { checked, id: opts.id } }, label);
  el.addEventListener('change', () => onChange((el as unknown as { checked: boolean }).checked));
  return el;
}

export function badge(text: string, opts: { title?: string; tone?: string } = {}): HTMLElement {
  return h('vscode-badge', { title: opts.title, class: opts.tone ? `tone-${opts.tone}` : undefined }, text);
}

export function progressRing(): HTMLElement {
  return h('vscode-progress-ring');
}

/** A plain table: the toolkit's data grid cannot sort and styles poorly in high contrast. */
export function table(head: readonly (string | HTMLElement)[], rows: readonly (readonly (string | number | HTMLElement)[])[], opts: { class?: string } = {}): HTMLElement {
  return h('table', { class: opts.class ?? 'grid' },
    h('thead', null, h('tr', null, head.map((c) => h('th', { attrs: { scope: 'col' } }, c)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))));
}
