// "Share / embed": the link and the embed snippets for the current settings,
// with checkboxes for what a lesson hides and whether it is locked, shows
// its text, and starts by itself — and a live preview of that embed. The
// settings come from the URL-state table (links.js); the dialog only adds
// the classroom options it is shown.

import { encodeState } from './share.js';

const escapeAttr = (text) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export class ShareDialog {
  // `links`: the page's Links; `hideable()`: what hide= can name, [{name, label, kind}] (classroom.js).
  constructor(dialog, links, hideable) {
    this.dialog = dialog;
    this.links = links;
    this.hideable = hideable;
    this.choices = dialog.querySelector('.share-hide');
    this.preview = dialog.querySelector('[data-testid="embed-preview"]');
    this.outputs = {
      link: dialog.querySelector('[data-testid="share-link"]'),
      iframe: dialog.querySelector('[data-testid="embed-snippet"]'),
      element: dialog.querySelector('[data-testid="embed-element-snippet"]'),
    };
    dialog.addEventListener('change', () => this.update());
    dialog.querySelector('.share-close').addEventListener('click', () => dialog.close());
    for (const button of dialog.querySelectorAll('[data-copy]')) {
      button.addEventListener('click', async () => {
        const text = this.outputs[button.dataset.copy].value;
        try {
          await navigator.clipboard.writeText(text);
          button.textContent = 'Copied';
        } catch {
          this.outputs[button.dataset.copy].select(); // the user copies it themselves
        }
      });
    }
  }

  open() {
    const group = (kind, title) => {
      const heading = Object.assign(document.createElement('p'), { className: 'share-group', textContent: title });
      const boxes = this.hideable()
        .filter((c) => c.kind === kind)
        .map(({ name, label }) => {
          const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: name });
          box.dataset.hide = name;
          const wrap = document.createElement('label');
          wrap.title = `hide=${name}`;
          wrap.append(box, ` ${label}`);
          return wrap;
        });
      return [heading, ...boxes];
    };
    this.choices.replaceChildren(...group('panel', 'Panels and buttons'), ...group('setting', 'Single settings'));
    for (const button of this.dialog.querySelectorAll('[data-copy]')) button.textContent = 'Copy';
    this.dialog.showModal();
    this.update();
  }

  // The hash of the current settings plus the classroom options ticked here.
  hash() {
    const settings = this.links.table().filter((entry) => !['hide', 'lock', 'text', 'autostart', 'tutorial'].includes(entry.name));
    const params = new URLSearchParams(encodeState(settings).slice(1));
    const hide = [...this.choices.querySelectorAll('input:checked')].map((box) => box.value);
    if (hide.length) params.set('hide', hide.join(','));
    const f = this.dialog.querySelector('form').elements;
    if (f.lock.checked) params.set('lock', '1');
    if (!f.text.checked) params.set('text', '0');
    if (f.autostart.checked) params.set('autostart', '1');
    return params;
  }

  update() {
    const params = this.hash();
    const hash = params.toString() ? `#${params}` : '';
    const page = new URL('index.html', location.href).href;
    const embed = new URL('embed.html', location.href).href;
    const script = new URL('finetune-lab.js', location.href).href;
    this.outputs.link.value = `${page}${hash}`;
    this.outputs.iframe.value = `<iframe src="${escapeAttr(embed + hash)}" title="Fine-Tune Lab" loading="lazy" width="100%" height="640" style="border:0"></iframe>`;
    const attributes = [...params].map(([name, value]) => ` ${name}="${escapeAttr(value)}"`).join('');
    this.outputs.element.value = `<script type="module" src="${escapeAttr(script)}"></script>\n<finetune-lab${attributes} height="640" loading="lazy"></finetune-lab>`;
    // The preview follows a moment later (each change would reload the embed).
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => {
      const url = `embed.html${hash}`;
      if (this.preview.getAttribute('src') !== url) this.preview.src = url;
    }, 400);
  }
}
