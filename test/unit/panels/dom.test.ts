import * as assert from 'node:assert/strict';
import { createH, isSafeAttribute, type MiniElement, type MiniNode } from '../../../src/shared/protocol/dom';
import { contentSecurityPolicy, makeNonce, pageHtml } from '../../../src/extension/panels/htmlTemplate';

/** A fake document that records what the builder does; it has no innerHTML at all, so only nodes can appear. */
class FakeText implements MiniNode {
  readonly nodeType = 3;
  constructor(readonly data: string) {}
}
class FakeEl implements MiniElement {
  readonly nodeType = 1;
  readonly children: (FakeEl | FakeText)[] = [];
  readonly attrs = new Map<string, string>();
  readonly styles = new Map<string, string>();
  readonly listeners: string[] = [];
  readonly style = { setProperty: (k: string, v: string) => void this.styles.set(k, v) };
  constructor(readonly tag: string) {}
  appendChild(c: MiniNode) { this.children.push(c as FakeEl | FakeText); }
  setAttribute(k: string, v: string) { this.attrs.set(k, v); }
  addEventListener(t: string) { this.listeners.push(t); }
  get text(): string { return this.children.map((c) => (c instanceof FakeText ? c.data : c.text)).join(''); }
  get tags(): string[] { return [this.tag, ...this.children.flatMap((c) => (c instanceof FakeEl ? c.tags : []))]; }
}
const doc = { createElement: (t: string) => new FakeEl(t), createTextNode: (s: string) => new FakeText(s) };
const h = createH(doc);

describe('webview element builder', () => {
  it('a run named like markup is rendered as text, never as an element', () => {
    const name = '<img src=x onerror="alert(1)">';
    const el = h('h1', { title: name }, name, ' · ', 3);
    assert.equal(el.text, `${name} · 3`);
    assert.deepEqual(el.tags, ['h1'], 'an <img> element was created from the name');
    assert.equal(el.attrs.get('title'), name);
  });

  it('refuses event-handler, style and script-URL attributes', () => {
    assert.throws(() => h('div', { attrs: { onclick: 'x()' } }));
    assert.throws(() => h('div', { attrs: { ONERROR: 'x()' } }));
    assert.throws(() => h('div', { attrs: { style: 'color:red' } }));
    assert.throws(() => h('a', { attrs: { href: 'javascript:alert(1)' } }));
    assert.throws(() => h('img', { attrs: { src: 'https://evil.example/x.png' } }));
    assert.throws(() => h('div', { attrs: { 'a b': '1' } }));
    assert.ok(isSafeAttribute('src', 'data:image/png;base64,iVBORw0KGgo='));
    assert.ok(!isSafeAttribute('src', 'data:text/html;base64,PHNjcmlwdD4='));
  });

  it('styles go through the CSSOM and listeners through addEventListener', () => {
    const el = h('span', { style: { width: '40%' }, on: { click: () => undefined } });
    assert.equal(el.styles.get('width'), '40%');
    assert.deepEqual(el.listeners, ['click']);
    assert.equal(el.attrs.has('style'), false);
  });

  it('nested arrays, null and false children are flattened or dropped', () => {
    const el = h('ul', null, [h('li', null, 'a'), null, false, [h('li', null, 'b')]], undefined);
    assert.deepEqual(el.tags, ['ul', 'li', 'li']);
    assert.equal(el.text, 'ab');
  });
});

describe('panel page', () => {
  it('CSP: nonce-only scripts, no inline styles, images from the webview or data:', () => {
    const csp = contentSecurityPolicy('vscode-resource:', 'abc');
    assert.equal(csp, "default-src 'none'; script-src 'nonce-abc'; style-src vscode-resource: 'nonce-abc'; img-src vscode-resource: data:; font-src vscode-resource:");
    assert.doesNotMatch(csp, /unsafe-(inline|eval)/);
  });

  it('page has one nonce\'d module script, escapes the title, no inline handlers', () => {
    const html = pageHtml({ cspSource: 'src:', nonce: 'N0NCE', scriptUri: 'https://w/dashboard.js', styleUri: 'https://w/dashboard.css', title: '<b>"x"</b>' });
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.match(html, /<script type="module" nonce="N0NCE" src="https:\/\/w\/dashboard.js">/);
    assert.match(html, /<title>&lt;b&gt;&quot;x&quot;&lt;\/b&gt;<\/title>/);
    assert.doesNotMatch(html, /\son[a-z]+=/i);
  });

  it('nonces are 32 alphanumerics and differ', () => {
    const a = makeNonce();
    assert.match(a, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(a, makeNonce());
  });
});
