// <finetune-lab>: Fine-Tune Lab in a lesson page, with one script tag.
//
//   <script type="module" src="https://…/finetune-lab.js"></script>
//   <finetune-lab experiment="new-classes" hide="optimizer,lr" lock="1"
//                 autostart="1" height="520" loading="lazy"></finetune-lab>
//
// Every attribute except `height`, `loading`, `src`, `title` and the HTML
// ones (`id`, `class`, `style`, `data-*`, `aria-*`) is an entry of the
// URL-state table (the same names as the page's links: experiment, lr, hide,
// lock, text, autostart, …); the element renders embed.html with them in an
// iframe, so two elements on one page each have their own worker and state.
// The embed's events (ready, progress, done, error, resize; see
// embed-host.js) are dispatched on the element as CustomEvents whose
// `detail` is the payload; resize also sets the frame's height (never below
// `height`). train(), pause(), step(), reset() and set(name, value) send
// the embed its commands.

const EMBED_VERSION = 1;
const OWN = ['height', 'loading', 'src', 'title', 'id', 'class', 'style', 'slot', 'hidden'];
const isSetting = (name) => !OWN.includes(name) && !name.startsWith('data-') && !name.startsWith('aria-');

class FinetuneLab extends HTMLElement {
  connectedCallback() {
    if (this.frame) return;
    const base = this.getAttribute('src') || new URL('./embed.html', import.meta.url).href;
    const params = new URLSearchParams();
    for (const { name, value } of this.attributes) if (isSetting(name)) params.set(name, value);
    this.minHeight = Number(this.getAttribute('height')) || 520;
    this.frame = document.createElement('iframe');
    this.frame.src = `${base}${params.toString() ? `#${params}` : ''}`;
    this.frame.loading = this.getAttribute('loading') === 'lazy' ? 'lazy' : 'eager';
    this.frame.title = this.getAttribute('title') || `Fine-Tune Lab: ${this.getAttribute('experiment') || 'train a model'}`;
    Object.assign(this.frame.style, { width: '100%', height: `${this.minHeight}px`, border: '0', display: 'block' });
    this.style.display = this.style.display || 'block';
    this.origin = new URL(base, location.href).origin;
    this.listener = (event) => this.receive(event);
    window.addEventListener('message', this.listener);
    this.append(this.frame);
  }

  disconnectedCallback() {
    window.removeEventListener('message', this.listener);
    this.frame?.remove();
    this.frame = null;
  }

  receive(event) {
    if (!this.frame || event.source !== this.frame.contentWindow || event.origin !== this.origin) return;
    const msg = event.data;
    if (!msg || msg.source !== 'finetune-lab' || msg.v !== EMBED_VERSION || typeof msg.type !== 'string') return;
    if (msg.type === 'resize' && Number.isFinite(msg.payload?.height)) this.frame.style.height = `${Math.max(this.minHeight, msg.payload.height)}px`;
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg.payload }));
  }

  send(type, payload) {
    this.frame?.contentWindow?.postMessage({ source: 'finetune-lab-host', v: EMBED_VERSION, type, payload }, this.origin);
  }

  train() {
    this.send('train');
  }

  pause() {
    this.send('pause');
  }

  step() {
    this.send('step');
  }

  reset() {
    this.send('reset');
  }

  set(name, value) {
    this.send('set', { name, value });
  }
}

if (!customElements.get('finetune-lab')) customElements.define('finetune-lab', FinetuneLab);
